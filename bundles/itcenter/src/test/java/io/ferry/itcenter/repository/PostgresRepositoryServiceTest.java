package io.ferry.itcenter.repository;

import io.ferry.itcenter.internal.ItCenterTestAccess;

/** The repository's tests on PostgreSQL (a server from ferry.test.pg.url, or a throwaway cluster). */
class PostgresRepositoryServiceTest extends RepositoryServiceTest {

    @Override
    protected String databaseUrl() throws Exception {
        return ItCenterTestAccess.newPostgresDatabase();
    }
}
