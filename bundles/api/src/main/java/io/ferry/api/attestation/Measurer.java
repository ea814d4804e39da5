package io.ferry.api.attestation;

import java.util.List;

import org.osgi.annotation.versioning.ProviderType;

/**
 * The agent's measurement of its hypervisor components (the QEMU and libvirtd binaries and every Ferry
 * bundle) into the measurement PCR and the persistent measurement log. A component is measured again
 * only when its digest or version changed since its last measurement after the TPM's last reset, as IMA
 * does.
 */
@ProviderType
public interface Measurer {

    /**
     * Measures every configured binary and every Ferry bundle now.
     *
     * @return the events this appended (empty when nothing changed)
     * @throws AttestationException when the log cannot be written or the TPM cannot be extended
     */
    List<MeasurementEntry> measureAll();

    /** The measurement events since the TPM's last reset, oldest first (what evidence carries). */
    List<MeasurementEntry> log();

    /** The state of the log against the PCR. */
    MeasurementStatus status();
}
