package io.ferry.shell.vm;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Completion;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.support.completers.FileCompleter;

@Service
@Command(scope = "vm", name = "define", description = "Defines a persistent domain from a libvirt domain XML file.")
public class DefineCommand extends VmCommand {

    @Argument(index = 0, name = "xml-file", description = "Path of the libvirt domain XML", required = true)
    @Completion(FileCompleter.class)
    String file;

    @Override
    public Object execute() throws IOException {
        String xml;
        try {
            xml = Files.readString(Path.of(file));
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException("no such file: " + file);
        }
        String name = hypervisor().define(xml);
        System.out.println("Defined " + name);
        return null;
    }
}
