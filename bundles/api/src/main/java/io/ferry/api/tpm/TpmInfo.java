package io.ferry.api.tpm;

/**
 * What TPM this is.
 *
 * @param device how it is reached, e.g. {@code swtpm tcp 127.0.0.1:2321} or {@code /dev/tpmrm0}
 * @param manufacturer the manufacturer's four-letter code, e.g. {@code IBM}
 * @param firmwareVersion the firmware version, as the TPM reports it
 * @param connected whether the connection is open now
 */
public record TpmInfo(String device, String manufacturer, String firmwareVersion, boolean connected) {
}
