package io.ferry.itcenter.enrolment;

import io.ferry.itcenter.internal.ItCenterTestAccess;

/** Enrolment on PostgreSQL: the same checks, the V3 schema on the other back end. */
class PostgresEnrolmentServiceTest extends EnrolmentServiceTest {

    @Override
    String databaseUrl() throws Exception {
        return ItCenterTestAccess.newPostgresDatabase();
    }
}
