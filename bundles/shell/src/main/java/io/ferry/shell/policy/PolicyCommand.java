package io.ferry.shell.policy;

import org.apache.karaf.shell.api.action.Action;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.osgi.framework.BundleContext;

import io.ferry.api.policy.PolicyException;
import io.ferry.api.policy.PolicyService;
import io.ferry.shell.support.Services;

/**
 * What every policy: command shares: the per-call lookup of the PolicyService, and one error that
 * starts with what failed in words ("Wrong key: signed by key ...").
 */
abstract class PolicyCommand implements Action {

    @Reference
    BundleContext context;

    @Override
    public final Object execute() throws Exception {
        PolicyService service = Services.get(context, PolicyService.class,
                "no policy service: install the ferry-policy feature");
        try {
            run(service);
        } catch (PolicyException e) {
            throw new IllegalStateException(words(e.reason()) + ": " + e.getMessage(), e);
        }
        return null;
    }

    abstract void run(PolicyService service) throws Exception;

    static String words(PolicyException.Reason reason) {
        return switch (reason) {
            case INVALID_DOCUMENT -> "Invalid policy";
            case BAD_SIGNATURE -> "Bad signature";
            case WRONG_KEY -> "Wrong key";
            case WRONG_VM -> "Wrong VM";
            case ROLLBACK -> "Rollback refused";
            case VERSION_CONFLICT -> "Version conflict";
            case NO_KEY -> "No IT center key";
            case NO_SUCH_POLICY -> "No such policy";
            case STORAGE -> "Seal storage";
            case ITCENTER -> "IT center";
        };
    }
}
