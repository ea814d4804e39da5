/**
 * The channel between two agents: mutual TLS 1.3 with the certificates the IT center issued,
 * one connection per purpose (migration, checkpoint stream, ...), and a binding value derived
 * from the TLS session so that an attestation can prove it was made for this very channel.
 */
@Export
@Version("1.1.0")
package io.ferry.api.channel;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
