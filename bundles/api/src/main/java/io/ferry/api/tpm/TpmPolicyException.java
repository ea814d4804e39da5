package io.ferry.api.tpm;

/**
 * The TPM refused a policy session: a PCR differs from the policy's value, an NV comparison
 * failed, or an authorization's signature did not verify.
 */
public class TpmPolicyException extends TpmException {

    private static final long serialVersionUID = 1L;

    public TpmPolicyException(String operation, String message, String responseCode) {
        super(operation, message, responseCode, null);
    }
}
