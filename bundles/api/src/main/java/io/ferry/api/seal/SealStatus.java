package io.ferry.api.seal;

import java.util.List;

/**
 * The state of seal storage.
 *
 * @param device the TPM device
 * @param pcrs the PCRs of the policy (measurement PCR and boot PCRs)
 * @param approvalVersion the installed approval's version, or -1 when none is installed
 * @param counterValue the TPM NV counter: the newest approval version seen
 * @param approvalKey the SHA-256 fingerprint (hex) of the configured approval key
 * @param kekGeneration the current KEK's generation (it grows with every rotation)
 * @param secrets the number of stored secrets
 * @param unsealable whether the installed approval matches the current PCR values
 * @param problem why not, or null
 */
public record SealStatus(String device, List<Integer> pcrs, long approvalVersion, long counterValue,
        String approvalKey, int kekGeneration, int secrets, boolean unsealable, String problem) {

    public SealStatus {
        pcrs = List.copyOf(pcrs);
    }
}
