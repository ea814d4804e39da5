package io.ferry.shell.seal;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.HexFormat;

import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Completion;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Service;

import io.ferry.api.seal.SealStorage;

/** Unseals a secret; prints its size and digest, the value itself only when asked. Admin role only (ACL). */
@Service
@Command(scope = "seal", name = "get",
        description = "Unseals a secret and shows its size and SHA-256; the value only with --reveal.")
public class GetCommand extends SealCommand {

    @Argument(index = 0, name = "name", description = "The secret's name", required = true)
    @Completion(SecretCompleter.class)
    String name;

    @Option(name = "--reveal", description = "Print the value (as text, or Base64 if it is not UTF-8)")
    boolean reveal;

    @Override
    void run(SealStorage storage) throws Exception {
        byte[] secret = storage.get(name);
        String digest = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(secret));
        System.out.println(name + ": " + secret.length + " bytes, SHA-256 " + digest);
        if (reveal) {
            System.out.println(text(secret));
        }
    }

    private static String text(byte[] secret) {
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(secret)).toString();
        } catch (CharacterCodingException e) {
            return "base64:" + Base64.getEncoder().encodeToString(secret);
        }
    }
}
