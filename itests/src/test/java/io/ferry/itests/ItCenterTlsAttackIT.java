package io.ferry.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;
import static org.ops4j.pax.exam.karaf.options.KarafDistributionOption.editConfigurationFilePut;

import java.io.IOException;
import java.security.KeyStore;
import java.util.List;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;

import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;

import io.ferry.api.itcenter.ItCenter;

/**
 * A protocol downgrade against the IT center's REST endpoint in the real distribution (Jetty under
 * Pax Web): a client that offers only TLS 1.2 gets no handshake; the same client offering TLS 1.3
 * does, so the refusal is the version and not anything else.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class ItCenterTlsAttackIT extends FerryTestSupport {

    private static final int PORT = 18453;

    @Override
    protected void ferryOptions(List<Option> options) {
        options.add(editConfigurationFilePut("etc/io.ferry.itcenter.cfg", "https.port", String.valueOf(PORT)));
    }

    @Test
    public void aClientOfferingOnlyTls12IsRefusedByTheItCenter() throws Exception {
        installAndAssertFeature("ferry-itcenter");
        ItCenter itc = getOsgiService(ItCenter.class, 60_000);
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        trust.setCertificateEntry("root", itc.rootCertificate());
        TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
        tmf.init(trust);

        // wait (bounded) until the endpoint answers a TLS 1.3 handshake: Pax Web restarts it once at start
        long end = System.currentTimeMillis() + 60_000;
        String negotiated = null;
        while (negotiated == null) {
            try {
                negotiated = handshake(tmf, "TLSv1.3");
            } catch (IOException e) {
                if (System.currentTimeMillis() > end) {
                    throw e;
                }
                Thread.sleep(500);
            }
        }
        assertEquals("TLSv1.3", negotiated);

        try {
            String got = handshake(tmf, "TLSv1.2");
            fail("the IT center completed a " + got + " handshake with a client that offered only TLS 1.2");
        } catch (IOException expected) {
            assertTrue(String.valueOf(expected), expected instanceof javax.net.ssl.SSLException
                    || expected instanceof java.net.SocketException || expected instanceof java.io.EOFException);
        }
    }

    private static String handshake(TrustManagerFactory tmf, String protocol) throws Exception {
        SSLContext ctx = SSLContext.getInstance(protocol);
        ctx.init(null, tmf.getTrustManagers(), null);
        try (SSLSocket s = (SSLSocket) ctx.getSocketFactory().createSocket("127.0.0.1", PORT)) {
            s.setEnabledProtocols(new String[] { protocol });
            s.setSoTimeout(10_000);
            s.startHandshake();
            return s.getSession().getProtocol();
        }
    }
}
