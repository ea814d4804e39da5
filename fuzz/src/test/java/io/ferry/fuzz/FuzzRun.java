package io.ferry.fuzz;

/** What every Ferry fuzz test shares. */
public final class FuzzRun {

    /**
     * How long one fuzzing run of one target lasts ({@code fuzz/run}, JAZZER_FUZZ set). The bound is
     * per run: {@code fuzz/run --rounds N} runs every target N times, each run starting from the
     * corpus the earlier ones grew.
     */
    public static final String BOUND = "15s";

    private FuzzRun() {
    }
}
