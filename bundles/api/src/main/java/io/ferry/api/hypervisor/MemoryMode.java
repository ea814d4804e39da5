package io.ferry.api.hypervisor;

/** How an address given to {@link Hypervisor#peekMemory} is read. */
public enum MemoryMode {
    /** A guest-physical address. */
    PHYSICAL,
    /** A guest-virtual address, translated by the first virtual CPU's page tables. */
    VIRTUAL
}
