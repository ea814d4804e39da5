package io.ferry.hypervisor.protection.internal;

import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import io.ferry.api.hypervisor.DomainState;
import io.ferry.api.hypervisor.DomainSummary;
import io.ferry.api.hypervisor.Hypervisor;
import io.ferry.api.hypervisor.HypervisorException;
import io.ferry.api.hypervisor.MemoryMode;
import io.ferry.api.hypervisor.NoSuchDomainException;

/**
 * A host with one guest whose physical memory is an array and whose kernel text (4 large pages and 2 small ones,
 * 8 MiB + 8 KiB: three reads of {@link Memory#CHUNK}) sits at 2 MiB.
 */
final class FakeGuest {

    static final long TEXT_VA = 0xffffffff9d600000L;
    static final long TEXT_PA = 2L << 20;
    static final int LARGE_PAGES = 4;
    static final int TEXT_LEN = LARGE_PAGES * (2 << 20) + 8192;

    final byte[] memory = new byte[16 << 20];
    final List<String> calls = new ArrayList<>();
    volatile String name = "vm";
    volatile String uuid = "11111111-2222-3333-4444-555555555555";
    volatile DomainState state = DomainState.RUNNING;
    volatile boolean failPeek;

    FakeGuest() {
        Arrays.fill(memory, (int) TEXT_PA, (int) TEXT_PA + TEXT_LEN, (byte) 0x90);
    }

    String infoTlb() {
        StringBuilder tlb = new StringBuilder(String.format("0000000000400000: 000000000c90e000 ----A--U-%n"));
        for (int i = 0; i < LARGE_PAGES; i++) {
            tlb.append(String.format("%016x: %016x -GPDA----%n", TEXT_VA + i * (2L << 20), TEXT_PA + i * (2L << 20)));
        }
        long small = LARGE_PAGES * (2L << 20);
        return tlb.append(String.format("%016x: %016x -G-DA----%n%016x: %016x -G-DA----%n%016x: %016x XG-DA---W%n",
                TEXT_VA + small, TEXT_PA + small, TEXT_VA + small + 4096, TEXT_PA + small + 4096,
                TEXT_VA + small + 8192, TEXT_PA + small + 8192)).toString();
    }

    Hypervisor hypervisor(String host) {
        return (Hypervisor) Proxy.newProxyInstance(Hypervisor.class.getClassLoader(), new Class<?>[] {Hypervisor.class},
                (proxy, method, args) -> {
                    String m = method.getName();
                    calls.add(m);
                    switch (m) {
                        case "hostName":
                            return host;
                        case "listDomains":
                            return List.of(summary());
                        case "domain":
                            if (!name.equals(args[0])) {
                                throw new NoSuchDomainException("domain", (String) args[0], host);
                            }
                            return summary();
                        case "monitorCommand":
                            if ("info tlb".equals(args[1])) {
                                return infoTlb();
                            }
                            if (((String) args[1]).startsWith("gva2gpa ")) {
                                long va = Long.parseUnsignedLong(((String) args[1]).substring(10), 16);
                                return "gpa: 0x" + Long.toHexString(va - TEXT_VA + TEXT_PA) + "\n";
                            }
                            throw new UnsupportedOperationException((String) args[1]);
                        case "peekMemory":
                            if (failPeek) {
                                throw new HypervisorException("memory-peek", (String) args[0], "peek failed");
                            }
                            if (args[3] != MemoryMode.PHYSICAL) {
                                throw new UnsupportedOperationException("virtual peek");
                            }
                            long at = (Long) args[1];
                            return Arrays.copyOfRange(memory, (int) at, (int) at + (Integer) args[2]);
                        case "suspend":
                            state = DomainState.PAUSED;
                            return null;
                        case "toString":
                            return "FakeGuest(" + host + ")";
                        case "hashCode":
                            return System.identityHashCode(proxy);
                        case "equals":
                            return proxy == args[0];
                        default:
                            throw new UnsupportedOperationException(m);
                    }
                });
    }

    private DomainSummary summary() {
        return new DomainSummary(name, uuid, state, 262144, 1, 0, true);
    }
}
