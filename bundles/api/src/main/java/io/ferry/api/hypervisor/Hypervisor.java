package io.ferry.api.hypervisor;

import java.nio.file.Path;
import java.util.List;

import org.osgi.annotation.versioning.ProviderType;

/**
 * One libvirt host. Every method names the domain it works on; a failure throws a
 * {@link HypervisorException} naming the operation and the domain, and leaves the domain as
 * it was wherever libvirt allows it.
 */
@ProviderType
public interface Hypervisor {

    /** Service property naming the host this service manages. */
    String HOST_PROPERTY = "ferry.host";

    /** The name of this host in Ferry, e.g. {@code local}. */
    String hostName();

    /** The libvirt URI this service connects to. */
    String uri();

    /** All domains of the host, running or only defined, sorted by name. */
    List<DomainSummary> listDomains();

    /** One domain. @throws NoSuchDomainException if there is none of that name */
    DomainSummary domain(String name);

    /** Whether a domain of that name exists on the host. */
    boolean exists(String name);

    /** Defines (or redefines) a persistent domain from libvirt XML; returns its name. */
    String define(String domainXml);

    /** Starts a defined domain. */
    void start(String name);

    /** Stops a domain: a clean ACPI shutdown when {@code force} is false, else an immediate power-off. */
    void stop(String name, boolean force);

    /** Removes a stopped domain's definition (and its snapshot metadata). */
    void undefine(String name);

    /** Pauses the guest's virtual CPUs. */
    void suspend(String name);

    /** Resumes a paused guest. */
    void resume(String name);

    /** The domain's live XML (the inactive XML when it is not running). */
    String domainXml(String name);

    /**
     * Moves a running domain live to another libvirt host, peer-to-peer, blocking until it runs
     * there: the VM state travels tunnelled through libvirt's own connection, or in QEMU's own
     * stream to the socket that {@link MigrationOptions#streamUri()} names. On failure the domain
     * keeps running here.
     *
     * @param targetUri the target host's libvirt URI, as this host's libvirtd can reach it
     */
    MigrationResult migrate(String name, String targetUri, MigrationOptions options, MigrationListener listener);

    /** Aborts the domain's running job (a migration), if any; returns whether one was aborted. */
    boolean abortJob(String name);

    /** Statistics of the domain's current job, or {@link JobStats#NONE}. */
    JobStats jobStats(String name);

    /**
     * Takes a live external snapshot of memory and disks at one instant: memory goes to
     * {@code memoryFile}, each disk continues in a new overlay next to it and the previous image
     * becomes the frozen state. Returns the snapshot's name.
     */
    String snapshotWithMemory(String name, String snapshotName, Path memoryFile, Path overlayDir);

    /**
     * Commits the frozen image {@code top} of a disk into {@code base} (below the active layer)
     * and waits until the commit completes.
     */
    void blockCommit(String name, String disk, Path base, Path top);

    /** Starts a domain from a memory image saved by a snapshot or save, with replacement XML. */
    void restore(Path memoryFile, String replacementXml, boolean paused);

    /** Reads {@code length} bytes of guest memory. */
    byte[] peekMemory(String name, long address, int length, MemoryMode mode);

    /** Sends a QEMU monitor (HMP) command and returns its output. */
    String monitorCommand(String name, String hmpCommand);
}
