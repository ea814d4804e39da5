package io.ferry.api.attestation;

import java.util.Set;
import java.util.TreeSet;

/**
 * How a verifier turns checked evidence into a security level.
 * <ul>
 * <li>Evidence that fails an integrity check (signature, quote structure, nonce, PCR digest, log replay)
 * gets {@link #levels}' lowest level.</li>
 * <li>Evidence that is genuine but names a component that is unknown, differs from its reference value or
 * is required and missing gets {@link #unknownLevel}.</li>
 * <li>Evidence whose every component matches its reference gets {@link #levels}' highest level.</li>
 * </ul>
 *
 * @param levels the ordered levels
 * @param unknownLevel the level of genuine evidence with failing or unknown components
 * @param required the components that must be measured (e.g. {@code qemu-system-x86_64}); their absence fails
 * @param strictHistory when true, every event since the TPM's last reset is appraised; when false (the
 *        default), only each component's latest measurement is, and earlier failures are reported as
 *        superseded without lowering the level (an update that remediates counts without a reboot)
 */
public record AppraisalPolicy(SecurityLevels levels, String unknownLevel, Set<String> required, boolean strictHistory) {

    /** untrusted &lt; measured &lt; trusted, nothing required, latest measurements only. */
    public static final AppraisalPolicy DEFAULT = new AppraisalPolicy(SecurityLevels.DEFAULT, "measured", Set.of(),
            false);

    public AppraisalPolicy {
        if (levels == null) {
            throw new IllegalArgumentException("the security levels are missing");
        }
        levels.rank(unknownLevel);
        required = Set.copyOf(new TreeSet<>(required));
        required.forEach(c -> Checks.token("a required component", c));
    }

    /** The same policy with other required components. */
    public AppraisalPolicy withRequired(Set<String> components) {
        return new AppraisalPolicy(levels, unknownLevel, components, strictHistory);
    }
}
