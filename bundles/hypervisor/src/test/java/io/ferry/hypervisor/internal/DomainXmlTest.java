package io.ferry.hypervisor.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;

import org.junit.jupiter.api.Test;

class DomainXmlTest {

    private static final String XML = """
            <domain type='qemu'>
              <name>guest-1</name>
              <devices>
                <disk type='file' device='disk'>
                  <driver name='qemu' type='qcow2'/>
                  <source file='/var/tb/vms/guest-1.qcow2'/>
                  <target dev='vda' bus='virtio'/>
                </disk>
                <disk type='file' device='cdrom'>
                  <source file='/iso/x.iso'/>
                  <target dev='hdc' bus='ide'/>
                </disk>
              </devices>
            </domain>
            """;

    @Test
    void readsNameAndFileDisksOnly() {
        assertThat(DomainXml.name(XML)).isEqualTo("guest-1");
        assertThat(DomainXml.disks(XML)).containsExactly(new DomainXml.Disk("vda", "/var/tb/vms/guest-1.qcow2"));
    }

    @Test
    void snapshotXmlPutsMemoryAndEveryDiskExternal() {
        String xml = DomainXml.externalSnapshot("cp-7", Path.of("/cp/mem-7"), DomainXml.disks(XML), Path.of("/cp"),
                "guest-1");
        assertThat(xml).contains("<name>cp-7</name>")
                .contains("<memory file=\"/cp/mem-7\" snapshot=\"external\"/>")
                .contains("name=\"vda\"")
                .contains("/cp/guest-1-vda-cp-7.qcow2")
                .doesNotContain("hdc");
    }

    @Test
    void rejectsXmlWithoutNameOrWithDoctype() {
        assertThatThrownBy(() -> DomainXml.name("<domain/>")).hasMessageContaining("no <name>");
        assertThatThrownBy(() -> DomainXml.name("<!DOCTYPE d [<!ENTITY x SYSTEM 'file:///etc/passwd'>]><domain><name>&x;</name></domain>"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("invalid domain XML");
        assertThatThrownBy(() -> DomainXml.name("not xml")).hasMessageContaining("invalid domain XML");
    }
}
