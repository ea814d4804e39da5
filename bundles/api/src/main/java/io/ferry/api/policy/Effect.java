package io.ferry.api.policy;

/** What a rule, or a decision, says. */
public enum Effect {
    ALLOW,
    DENY;

    /** {@code allow} or {@code deny}, as in policy documents. */
    public String word() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
