package io.ferry.shell.migration;

import org.apache.karaf.shell.api.action.Action;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.osgi.framework.BundleContext;

import io.ferry.api.migration.Migrations;
import io.ferry.shell.support.Services;

/** What every migration: command shares: the per-call lookup of the Migrations service. */
abstract class MigrationCommand implements Action {

    @Reference
    BundleContext context;

    @Override
    public final Object execute() throws Exception {
        run(migrations(context));
        return null;
    }

    abstract void run(Migrations migrations) throws Exception;

    static Migrations migrations(BundleContext context) {
        return Services.get(context, Migrations.class,
                "no migration service: install the ferry-migration feature (it needs the agent's credentials, "
                        + "which enrolment provides)");
    }
}
