package io.ferry.shell.itcenter;

import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.support.table.ShellTable;

import io.ferry.api.itcenter.Release;
import io.ferry.api.itcenter.ReleaseRepository;
import io.ferry.shell.support.Services;

@Service
@Command(scope = "itcenter", name = "releases",
        description = "Lists the feature versions published in the IT center's repository and the features "
                + "repository agents add for each.")
public class ReleasesCommand extends ItCenterCommand {

    @Option(name = "-f", aliases = "--feature", description = "Only this feature")
    String feature;

    @Override
    public Object execute() {
        ReleaseRepository repository = Services.get(context, ReleaseRepository.class,
                "the IT center's repository is not running (feature ferry-itcenter)");
        ShellTable table = new ShellTable();
        table.column("Feature");
        table.column("Version");
        table.column("Repository");
        table.column("Published");
        table.column("By");
        for (Release r : repository.releases()) {
            if (feature == null || feature.equals(r.feature())) {
                table.addRow().addContent(r.feature(), r.version(), r.repository(), r.publishedAt(), r.actor());
            }
        }
        table.print(System.out);
        return null;
    }
}
