package io.ferry.updater.internal;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

@ObjectClassDefinition(name = "Ferry updater",
        description = "Follows the updates the IT center pushes to this agent and installs them with Karaf's "
                + "FeaturesService, replacing the older version (PID io.ferry.updater).")
public @interface UpdaterConfig {

    @AttributeDefinition(name = "Poll interval (seconds)", description = "How often the IT center is asked for "
            + "pending updates.")
    int poll_seconds() default 30;

    @AttributeDefinition(name = "Request timeout (seconds)", description = "The deadline of one IT center request.")
    int request_timeout_seconds() default 15;

    @AttributeDefinition(name = "Allowed features", description = "Feature names the IT center may push: exact "
            + "names or prefixes ending in *. The updater never updates itself (ferry-updater).")
    String[] allowed_features() default {"ferry-*"};

    @AttributeDefinition(name = "Renew the seal approval", description = "After an applied update, attest and ask "
            + "the IT center for an approval of the new PCR values (POST /api/v1/approvals), so that seal storage "
            + "unseals again.")
    boolean renew_approval() default true;
}
