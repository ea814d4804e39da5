package io.ferry.shell.seal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

import org.apache.karaf.shell.api.action.Action;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.osgi.framework.BundleContext;

import io.ferry.api.seal.Approval;
import io.ferry.api.seal.SealException;
import io.ferry.api.seal.SealStorage;
import io.ferry.shell.support.Services;

/**
 * What every seal: command shares: the per-call lookup of the SealStorage service, and one error
 * line that starts with what failed in words ("PCR mismatch: get 'db': PCR 23 is ...").
 */
abstract class SealCommand implements Action {

    @Reference
    BundleContext context;

    @Override
    public final Object execute() throws Exception {
        SealStorage storage = Services.get(context, SealStorage.class,
                "no seal storage: install the ferry-seal-storage feature and configure io.ferry.seal");
        try {
            run(storage);
        } catch (SealException e) {
            throw new IllegalStateException(words(e.reason()) + ": " + e.getMessage(), e);
        }
        return null;
    }

    abstract void run(SealStorage storage) throws Exception;

    static String words(SealException.Reason reason) {
        return switch (reason) {
            case NO_SUCH_SECRET -> "No such secret";
            case INVALID_INPUT -> "Invalid input";
            case CORRUPT_BLOB -> "Corrupt blob";
            case SWAPPED_BLOB -> "Swapped blob";
            case NO_APPROVAL -> "No approval installed";
            case APPROVAL_KEY -> "Wrong or missing approval key";
            case APPROVAL_ROLLBACK -> "Approval rollback refused";
            case PCR_MISMATCH -> "PCR mismatch";
            case TPM_REFUSED -> "TPM refused";
            case TPM_UNAVAILABLE -> "TPM unavailable";
            case IO -> "I/O error";
        };
    }

    /** Reads an approval file; the error names the file and what is wrong with it. */
    static Approval readApproval(String file) {
        String text;
        try {
            text = Files.readString(Path.of(file), StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException("no approval file " + file, e);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read the approval file " + file + ": " + e, e);
        }
        try {
            return Approval.parse(text);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(file + " is not an approval: " + e.getMessage(), e);
        }
    }
}
