package io.ferry.itcenter.repository;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

import javax.xml.XMLConstants;
import javax.xml.parsers.DocumentBuilder;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.parsers.ParserConfigurationException;

import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.xml.sax.SAXException;

import io.ferry.api.itcenter.ItCenterException;
import io.ferry.api.itcenter.ItCenterException.Reason;

/**
 * What publishing needs from a Karaf features repository: its features (name, version) and the
 * locations of the bundles and configuration files each lists (conditional ones included), and the
 * repositories it refers to. Parsed with the JDK's DOM parser with DTDs and external entities off.
 */
record FeaturesXml(List<Feature> features, List<String> repositories) {

    /** One feature. */
    record Feature(String name, String version, List<String> bundles, List<String> configFiles) {
    }

    static boolean looksLikeXml(byte[] content) {
        for (byte b : content) {
            if (b == '<') {
                return true;
            }
            if (!Character.isWhitespace(b) && b != (byte) 0xef && b != (byte) 0xbb && b != (byte) 0xbf) {
                return false;
            }
        }
        return false;
    }

    static FeaturesXml parse(byte[] content) {
        Document doc;
        try {
            DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
            f.setNamespaceAware(true);
            f.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
            f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
            f.setXIncludeAware(false);
            f.setExpandEntityReferences(false);
            DocumentBuilder b = f.newDocumentBuilder();
            b.setErrorHandler(null);
            doc = b.parse(new ByteArrayInputStream(content));
        } catch (ParserConfigurationException | SAXException | IOException e) {
            throw new ItCenterException(Reason.INVALID, "not a features repository: " + e.getMessage());
        }
        Element root = doc.getDocumentElement();
        if (!"features".equals(root.getLocalName())) {
            throw new ItCenterException(Reason.INVALID,
                    "not a features repository: the root element is <" + root.getLocalName() + ">");
        }
        List<Feature> features = new ArrayList<>();
        List<String> repositories = new ArrayList<>();
        for (Element e : children(root)) {
            if ("repository".equals(e.getLocalName())) {
                repositories.add(e.getTextContent().strip());
            } else if ("feature".equals(e.getLocalName())) {
                String name = e.getAttribute("name");
                String version = e.getAttribute("version").isBlank() ? "0.0.0" : e.getAttribute("version").strip();
                if (name.isBlank()) {
                    throw new ItCenterException(Reason.INVALID, "a feature without a name");
                }
                List<String> bundles = new ArrayList<>();
                List<String> configFiles = new ArrayList<>();
                collect(e, bundles, configFiles);
                features.add(new Feature(name.strip(), version, bundles, configFiles));
            }
        }
        if (features.isEmpty()) {
            throw new ItCenterException(Reason.INVALID, "the features repository lists no feature");
        }
        return new FeaturesXml(features, repositories);
    }

    private static void collect(Element feature, List<String> bundles, List<String> configFiles) {
        for (Element e : children(feature)) {
            switch (e.getLocalName()) {
                case "bundle" -> bundles.add(e.getTextContent().strip());
                case "configfile" -> configFiles.add(e.getTextContent().strip());
                case "conditional" -> collect(e, bundles, configFiles);
                default -> {
                }
            }
        }
    }

    private static List<Element> children(Element parent) {
        List<Element> out = new ArrayList<>();
        for (Node n = parent.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n instanceof Element e) {
                out.add(e);
            }
        }
        return out;
    }
}
