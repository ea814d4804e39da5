package io.ferry.itcenter.tls.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.lang.reflect.Proxy;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.TreeMap;

import javax.servlet.ServletOutputStream;
import javax.servlet.WriteListener;
import javax.servlet.http.HttpServletRequest;
import javax.servlet.http.HttpServletResponse;

import org.junit.jupiter.api.Test;

/**
 * The IT center's answer while its REST API is not registered: to every request, whatever its method and
 * path, a 503 problem+json document that agents read as "IT center unavailable" (never a 404 or a 405 that
 * an agent could take for "no such lease"), with Retry-After and not cached; to HEAD the same without a
 * body.
 */
class UnavailableServletTest {

    private static final String PROBLEM = "{\"type\":\"about:blank\",\"title\":\"unavailable\",\"status\":503,"
            + "\"detail\":\"the IT center is starting or stopping: try again\"}";

    /** What the servlet answered. */
    private static final class Answer {
        int status = -1;
        final Map<String, String> headers = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
        String contentType;
        long contentLength = -1;
        final ByteArrayOutputStream body = new ByteArrayOutputStream();
    }

    private static Answer serve(String method, String path) throws Exception {
        HttpServletRequest request = (HttpServletRequest) Proxy.newProxyInstance(
                UnavailableServletTest.class.getClassLoader(), new Class<?>[] {HttpServletRequest.class},
                (proxy, m, args) -> switch (m.getName()) {
                    case "getMethod" -> method;
                    case "getRequestURI", "getServletPath", "getPathInfo" -> path;
                    case "getProtocol" -> "HTTP/1.1";
                    case "getHeader" -> null;
                    default -> throw new UnsupportedOperationException("request." + m.getName());
                });
        Answer a = new Answer();
        ServletOutputStream out = new ServletOutputStream() {
            @Override
            public void write(int b) {
                a.body.write(b);
            }

            @Override
            public boolean isReady() {
                return true;
            }

            @Override
            public void setWriteListener(WriteListener listener) {
                throw new UnsupportedOperationException();
            }
        };
        HttpServletResponse response = (HttpServletResponse) Proxy.newProxyInstance(
                UnavailableServletTest.class.getClassLoader(), new Class<?>[] {HttpServletResponse.class},
                (proxy, m, args) -> {
                    switch (m.getName()) {
                        case "setStatus" -> a.status = (Integer) args[0];
                        case "setHeader", "addHeader" -> a.headers.put((String) args[0], (String) args[1]);
                        case "setContentType" -> a.contentType = (String) args[0];
                        case "setContentLength" -> a.contentLength = (Integer) args[0];
                        case "setContentLengthLong" -> a.contentLength = (Long) args[0];
                        case "getOutputStream" -> {
                            return out;
                        }
                        case "getWriter" -> {
                            return new PrintWriter(new OutputStreamWriter(out, StandardCharsets.UTF_8), true);
                        }
                        default -> throw new UnsupportedOperationException("response." + m.getName());
                    }
                    return null;
                });
        new UnavailableServlet().service(request, response);
        return a;
    }

    private static void assertUnavailable(Answer a) {
        assertThat(a.status).isEqualTo(503);
        assertThat(a.contentType).isEqualTo("application/problem+json");
        assertThat(a.headers).containsEntry("Retry-After", "2").containsEntry("Cache-Control", "no-store");
        assertThat(a.contentLength).isEqualTo(PROBLEM.getBytes(StandardCharsets.UTF_8).length);
    }

    @Test
    void everyMethodOnEveryPathIsAnsweredWithA503ProblemDocument() throws Exception {
        for (String method : new String[] {"GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"}) {
            for (String path : new String[] {"/api/v1/leases/vm1", "/api/v1/agents", "/", "/anything/else"}) {
                Answer a = serve(method, path);
                assertUnavailable(a);
                assertThat(a.body.toString(StandardCharsets.UTF_8)).as(method + " " + path).isEqualTo(PROBLEM);
            }
        }
    }

    @Test
    void headGetsTheSameAnswerWithoutABody() throws Exception {
        Answer a = serve("HEAD", "/api/v1/leases/vm1");
        assertUnavailable(a);
        assertThat(a.body.size()).isZero();
    }
}
