package io.ferry.api.policy;

import java.util.List;
import java.util.stream.Collectors;

/** A policy document with errors: every one of them, each naming the field and the line. */
public class PolicyFormatException extends PolicyException {

    private static final long serialVersionUID = 1L;

    private final transient List<PolicyError> errors;

    public PolicyFormatException(List<PolicyError> errors) {
        super(Reason.INVALID_DOCUMENT, summary(errors));
        this.errors = List.copyOf(errors);
    }

    public List<PolicyError> errors() {
        return errors;
    }

    private static String summary(List<PolicyError> errors) {
        return "invalid policy (" + errors.size() + (errors.size() == 1 ? " error" : " errors") + "):\n  "
                + errors.stream().map(PolicyError::toString).collect(Collectors.joining("\n  "));
    }
}
