package io.ferry.checkpoint.internal;

import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import javax.xml.XMLConstants;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.parsers.ParserConfigurationException;
import javax.xml.transform.OutputKeys;
import javax.xml.transform.TransformerException;
import javax.xml.transform.TransformerFactory;
import javax.xml.transform.dom.DOMSource;
import javax.xml.transform.stream.StreamResult;

import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.w3c.dom.NodeList;
import org.xml.sax.InputSource;
import org.xml.sax.SAXException;

/** The file-backed disks of a domain's live XML, and the same XML with the disks moved to other files. */
final class DomainDisks {

    /**
     * A disk: its target (vda), the file the guest writes now, and the file below it (null: none).
     */
    record Disk(String target, Path active, Path backing) {
    }

    private DomainDisks() {
    }

    private static final byte[] SAVE_MAGIC = "LibvirtQemudSave".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

    /**
     * The domain XML libvirt wrote into a memory image (its migratable XML, which a restore compares
     * the replacement with), or null when the file is not a libvirt QEMU save image.
     */
    static String saveImageXml(Path memoryImage) throws IOException {
        try (java.io.DataInputStream in = new java.io.DataInputStream(java.nio.file.Files.newInputStream(memoryImage))) {
            in.readNBytes(SAVE_MAGIC.length); // "LibvirtQemudSave" (or the newer sparse format's magic)
            // the header's fields, then the XML (and a cookie) within the first pages
            String xml = new String(in.readNBytes(1 << 20), java.nio.charset.StandardCharsets.ISO_8859_1);
            int start = xml.indexOf("<domain");
            if (start < 0) {
                return null;
            }
            int end = xml.indexOf("</domain>", start);
            return end < 0 ? null : new String(xml.substring(start, end + "</domain>".length())
                    .getBytes(java.nio.charset.StandardCharsets.ISO_8859_1), java.nio.charset.StandardCharsets.UTF_8);
        }
    }

    static List<Disk> of(String domainXml) {
        List<Disk> disks = new ArrayList<>();
        for (Element disk : disks(parse(domainXml))) {
            Element target = child(disk, "target");
            Element source = child(disk, "source");
            if (target == null || source == null || source.getAttribute("file").isEmpty()) {
                continue;
            }
            Path backing = null;
            Element store = child(disk, "backingStore");
            if (store != null) {
                Element s = child(store, "source");
                if (s != null && !s.getAttribute("file").isEmpty()) {
                    backing = Path.of(s.getAttribute("file"));
                }
            }
            disks.add(new Disk(target.getAttribute("dev"), Path.of(source.getAttribute("file")), backing));
        }
        return disks;
    }

    /** The XML with each named disk reading {@code files.get(target)} (qcow2, no backing chain). */
    static String repoint(String domainXml, Map<String, Path> files) {
        Document doc = parse(domainXml);
        for (Element disk : disks(doc)) {
            Element target = child(disk, "target");
            if (target == null || !files.containsKey(target.getAttribute("dev"))) {
                continue;
            }
            Element source = child(disk, "source");
            source.setAttribute("file", files.get(target.getAttribute("dev")).toAbsolutePath().toString());
            for (Node n = source.getFirstChild(); n != null; n = source.getFirstChild()) {
                source.removeChild(n);
            }
            Element store = child(disk, "backingStore");
            if (store != null) {
                disk.removeChild(store);
            }
            Element driver = child(disk, "driver");
            if (driver != null) {
                driver.setAttribute("type", "qcow2");
            }
        }
        return write(doc);
    }

    private static List<Element> disks(Document doc) {
        List<Element> out = new ArrayList<>();
        NodeList devices = doc.getDocumentElement().getElementsByTagName("devices");
        if (devices.getLength() == 0) {
            return out;
        }
        for (Node n = devices.item(0).getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n instanceof Element e && "disk".equals(e.getTagName()) && "file".equals(e.getAttribute("type"))
                    && (e.getAttribute("device").isEmpty() || "disk".equals(e.getAttribute("device")))) {
                out.add(e);
            }
        }
        return out;
    }

    private static Element child(Element parent, String tag) {
        for (Node n = parent.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n instanceof Element e && tag.equals(e.getTagName())) {
                return e;
            }
        }
        return null;
    }

    private static Document parse(String xml) {
        try {
            DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
            f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
            f.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
            f.setExpandEntityReferences(false);
            return f.newDocumentBuilder().parse(new InputSource(new StringReader(xml)));
        } catch (ParserConfigurationException | SAXException | IOException e) {
            throw new IllegalArgumentException("invalid domain XML: " + e.getMessage(), e);
        }
    }

    private static String write(Document doc) {
        try {
            var t = TransformerFactory.newInstance().newTransformer();
            t.setOutputProperty(OutputKeys.OMIT_XML_DECLARATION, "yes");
            StringWriter out = new StringWriter();
            t.transform(new DOMSource(doc), new StreamResult(out));
            return out.toString();
        } catch (TransformerException e) {
            throw new IllegalStateException(e);
        }
    }
}
