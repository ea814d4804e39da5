package io.ferry.api.attestation;

/**
 * The state of the agent's measurement.
 *
 * @param pcr the measurement PCR
 * @param logFile the measurement log's file
 * @param events the events since the TPM's last reset
 * @param totalEvents all events in the file
 * @param pcrValue the PCR's current value (hex), or null when the TPM is unavailable
 * @param replayValue the value replaying the events gives (hex)
 * @param problem what is wrong (the log does not replay, a torn line was cut off at start, the TPM is
 *        unavailable), or null
 */
public record MeasurementStatus(int pcr, String logFile, int events, long totalEvents, String pcrValue,
        String replayValue, String problem) {

    /** Whether the log replays to the PCR's current value. */
    public boolean replays() {
        return pcrValue != null && pcrValue.equals(replayValue);
    }
}
