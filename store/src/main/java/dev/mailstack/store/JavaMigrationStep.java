package dev.mailstack.store;

import org.flywaydb.core.api.MigrationVersion;
import org.flywaydb.core.api.migration.JavaMigration;

/**
 * What Flyway asks of each of our Java migrations beyond its work: a version and description, no
 * checksum (the code is the migration), and one transaction. Registered in {@link Database#open}.
 */
abstract class JavaMigrationStep implements JavaMigration {
    private final MigrationVersion version;
    private final String description;

    JavaMigrationStep(String version, String description) {
        this.version = MigrationVersion.fromVersion(version);
        this.description = description;
    }

    @Override
    public final MigrationVersion getVersion() {
        return version;
    }

    @Override
    public final String getDescription() {
        return description;
    }

    @Override
    public final Integer getChecksum() {
        return null;
    }

    @Override
    public final boolean canExecuteInTransaction() {
        return true;
    }
}
