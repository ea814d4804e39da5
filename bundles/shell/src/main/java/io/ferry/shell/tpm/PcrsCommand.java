package io.ferry.shell.tpm;

import java.util.List;
import java.util.stream.IntStream;

import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Completion;
import org.apache.karaf.shell.api.action.lifecycle.Service;

import io.ferry.api.tpm.Pcr;
import io.ferry.api.tpm.Tpm;

@Service
@Command(scope = "tpm", name = "pcrs", description = "Shows PCR values of the TPM's SHA-256 bank.")
public class PcrsCommand extends TpmCommand {

    @Argument(index = 0, name = "pcr", description = "PCR indexes, 0 to 23 (default: all)", multiValued = true)
    @Completion(PcrCompleter.class)
    List<Integer> pcrs;

    @Override
    void run(Tpm tpm) {
        int[] indexes = pcrs == null || pcrs.isEmpty() ? IntStream.rangeClosed(0, 23).toArray()
                : pcrs.stream().mapToInt(Integer::intValue).toArray();
        for (Pcr p : tpm.readPcrs(indexes)) {
            System.out.printf("PCR %2d  sha256  %s%n", p.index(), p.hex());
        }
    }
}
