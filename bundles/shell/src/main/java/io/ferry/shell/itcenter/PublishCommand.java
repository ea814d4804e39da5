package io.ferry.shell.itcenter;

import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Completion;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.support.completers.FileCompleter;
import org.apache.karaf.shell.support.table.ShellTable;

import io.ferry.api.attestation.ReferenceValue;
import io.ferry.api.itcenter.Publication;
import io.ferry.api.itcenter.Release;
import io.ferry.api.itcenter.ReleaseRepository;
import io.ferry.shell.support.Services;

@Service
@Command(scope = "itcenter", name = "publish",
        description = "Publishes a features repository (with every bundle its features list) or a bundle in the IT "
                + "center's repository, recording each bundle's reference value. Agents then install or upgrade "
                + "from https://<itcenter>/repository/.")
public class PublishCommand extends ItCenterCommand {

    @Argument(index = 0, name = "location", required = true,
            description = "mvn:group/artifact/version[/xml/features], resolved from the IT center's own Maven "
                    + "repositories, or a file (then give --coordinates)")
    @Completion(FileCompleter.class)
    String location;

    @Option(name = "-c", aliases = "--coordinates",
            description = "For a file: the mvn: coordinates to publish it under, e.g. mvn:io.ferry/my-features/1.2.0/xml/features")
    String coordinates;

    @Override
    public Object execute() {
        ReleaseRepository repository = Services.get(context, ReleaseRepository.class,
                "the IT center's repository is not running (feature ferry-itcenter)");
        Publication p = repository.publish(location, coordinates, actor());
        System.out.println("Published " + p.location() + ": " + p.artifacts().size() + " files");
        if (!p.releases().isEmpty()) {
            System.out.println("Releases: " + String.join(", ", p.releases().stream().map(Release::name).toList()));
            System.out.println("Agents: feature:repo-add " + p.location());
        }
        ShellTable table = new ShellTable();
        table.column("Component");
        table.column("Version");
        table.column("SHA-256");
        table.column("Release");
        for (ReferenceValue v : p.referenceValues()) {
            table.addRow().addContent(v.component(), v.version(), v.sha256(), v.release());
        }
        table.print(System.out);
        p.notes().forEach(n -> System.out.println("Note: " + n));
        return null;
    }
}
