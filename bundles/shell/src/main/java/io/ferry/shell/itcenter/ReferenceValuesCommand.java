package io.ferry.shell.itcenter;

import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.support.table.ShellTable;

import io.ferry.api.attestation.ReferenceValue;

@Service
@Command(scope = "itcenter", name = "reference-values",
        description = "Lists the reference values (component, version, SHA-256) of the published releases.")
public class ReferenceValuesCommand extends ItCenterCommand {

    @Option(name = "-c", aliases = "--component", description = "Only this component")
    String component;

    @Override
    public Object execute() {
        ShellTable table = new ShellTable();
        table.column("Component");
        table.column("Version");
        table.column("SHA-256");
        table.column("Release");
        table.column("Published");
        for (ReferenceValue v : itCenter().referenceValues()) {
            if (component == null || component.equals(v.component())) {
                table.addRow().addContent(v.component(), v.version(), v.sha256(), v.release(), v.publishedAt());
            }
        }
        table.print(System.out);
        return null;
    }
}
