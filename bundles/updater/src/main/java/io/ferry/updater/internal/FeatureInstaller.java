package io.ferry.updater.internal;

/** What the updater needs of Karaf's features service. */
interface FeatureInstaller {

    /** Installs a feature version, replacing an installed older version of it; blocks until done. */
    void install(String feature, String version, String repository) throws Exception;

    /** The bundles of the installed feature version as {@code bsn/version (state)}, to report. */
    String describe(String feature, String version) throws Exception;
}
