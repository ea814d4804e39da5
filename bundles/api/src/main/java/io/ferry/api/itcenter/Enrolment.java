package io.ferry.api.itcenter;

/** A newly registered agent and its first certificate. */
public record Enrolment(Agent agent, IssuedCertificate certificate) {
}
