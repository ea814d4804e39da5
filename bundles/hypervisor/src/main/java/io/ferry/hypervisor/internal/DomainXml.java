package io.ferry.hypervisor.internal;

import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import javax.xml.XMLConstants;
import javax.xml.parsers.DocumentBuilder;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.parsers.ParserConfigurationException;
import javax.xml.transform.OutputKeys;
import javax.xml.transform.Transformer;
import javax.xml.transform.TransformerException;
import javax.xml.transform.TransformerFactory;
import javax.xml.transform.dom.DOMSource;
import javax.xml.transform.stream.StreamResult;

import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;
import org.xml.sax.InputSource;
import org.xml.sax.SAXException;

/** Reads what Ferry needs from libvirt domain XML, and writes snapshot XML. */
final class DomainXml {

    /** A file-backed disk of a domain: its target device (vda) and its current source file. */
    record Disk(String target, String source) {
    }

    private DomainXml() {
    }

    static String name(String domainXml) {
        NodeList names = parse(domainXml).getDocumentElement().getElementsByTagName("name");
        if (names.getLength() == 0 || names.item(0).getTextContent().isBlank()) {
            throw new IllegalArgumentException("domain XML has no <name>");
        }
        return names.item(0).getTextContent().strip();
    }

    static List<Disk> disks(String domainXml) {
        NodeList nodes = parse(domainXml).getElementsByTagName("disk");
        List<Disk> disks = new ArrayList<>();
        for (int i = 0; i < nodes.getLength(); i++) {
            Element disk = (Element) nodes.item(i);
            if (!"disk".equals(disk.getAttribute("device")) && !disk.getAttribute("device").isEmpty()) {
                continue;
            }
            Element target = first(disk, "target");
            Element source = first(disk, "source");
            if (target != null && source != null && !source.getAttribute("file").isEmpty()) {
                disks.add(new Disk(target.getAttribute("dev"), source.getAttribute("file")));
            }
        }
        return disks;
    }

    /**
     * Snapshot XML for a live external snapshot: memory to {@code memoryFile}, every disk into a
     * new overlay {@code <overlayDir>/<domain>-<disk>-<snapshot>.qcow2}.
     */
    static String externalSnapshot(String snapshotName, Path memoryFile, List<Disk> disks, Path overlayDir,
            String domain) {
        Document doc = newDocument();
        Element root = doc.createElement("domainsnapshot");
        doc.appendChild(root);
        append(doc, root, "name").setTextContent(snapshotName);
        Element memory = append(doc, root, "memory");
        memory.setAttribute("snapshot", "external");
        memory.setAttribute("file", memoryFile.toAbsolutePath().toString());
        Element disksElement = append(doc, root, "disks");
        for (Disk disk : disks) {
            Element d = append(doc, disksElement, "disk");
            d.setAttribute("name", disk.target());
            d.setAttribute("snapshot", "external");
            d.setAttribute("type", "file");
            Element source = append(doc, d, "source");
            source.setAttribute("file", overlayDir.resolve(domain + "-" + disk.target() + "-" + snapshotName + ".qcow2")
                    .toAbsolutePath().toString());
            Element driver = append(doc, d, "driver");
            driver.setAttribute("type", "qcow2");
        }
        return write(doc);
    }

    private static Element first(Element parent, String tag) {
        NodeList list = parent.getElementsByTagName(tag);
        return list.getLength() == 0 ? null : (Element) list.item(0);
    }

    private static Element append(Document doc, Element parent, String tag) {
        Element e = doc.createElement(tag);
        parent.appendChild(e);
        return e;
    }

    private static DocumentBuilder builder() {
        try {
            DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
            // Domain XML may come from a file a user gave: no DTDs, no external entities.
            f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
            f.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
            f.setExpandEntityReferences(false);
            return f.newDocumentBuilder();
        } catch (ParserConfigurationException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Document parse(String xml) {
        try {
            return builder().parse(new InputSource(new StringReader(xml)));
        } catch (SAXException | IOException e) {
            throw new IllegalArgumentException("invalid domain XML: " + e.getMessage(), e);
        }
    }

    private static Document newDocument() {
        return builder().newDocument();
    }

    private static String write(Document doc) {
        try {
            Transformer t = TransformerFactory.newInstance().newTransformer();
            t.setOutputProperty(OutputKeys.OMIT_XML_DECLARATION, "yes");
            StringWriter out = new StringWriter();
            t.transform(new DOMSource(doc), new StreamResult(out));
            return out.toString();
        } catch (TransformerException e) {
            throw new IllegalStateException(e);
        }
    }
}
