package io.ferry.hypervisor.protection.internal;

import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;

import io.ferry.api.protection.DomainBaseline;

/**
 * Baselines on disk, so that a restart or a hot update of this bundle keeps them (a baseline
 * taken again after a change would bless the change). Written whole to a temporary file and
 * moved into place.
 */
public final class BaselineFile {

    private static final ObjectMapper MAPPER = new ObjectMapper().registerModule(new JavaTimeModule())
            .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS);

    private final Path file;

    public BaselineFile(Path file) {
        this.file = file;
    }

    List<DomainBaseline> load() throws IOException {
        if (file == null || !Files.exists(file)) {
            return List.of();
        }
        return MAPPER.readValue(file.toFile(), new TypeReference<List<DomainBaseline>>() {
        });
    }

    void save(List<DomainBaseline> baselines) throws IOException {
        if (file == null) {
            return;
        }
        Files.createDirectories(file.toAbsolutePath().getParent());
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        MAPPER.writeValue(tmp.toFile(), baselines);
        try {
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
        }
    }
}
