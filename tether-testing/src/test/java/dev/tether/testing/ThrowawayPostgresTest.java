package dev.tether.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.Socket;
import java.nio.file.Files;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A throwaway cluster is a real PostgreSQL on a loopback port that names its clients as asked, and is gone once
 * closed. Needs PostgreSQL's server binaries, or root to install them, as every PostgreSQL test here does.
 */
@Timeout(300)   // the first start on a fresh machine installs Debian's package
class ThrowawayPostgresTest {

    @Test
    void startsAServerThatAnswersOnLoopbackAndIsGoneOnceClosed() throws Exception {
        ThrowawayPostgres pg = ThrowawayPostgres.start();
        try {
            assertEquals("127.0.0.1", pg.host());
            assertTrue(Files.isExecutable(pg.binDirectory().resolve("pg_ctl")), pg.binDirectory().toString());
            try (Connection c = pg.dataSource("throwaway-test").getConnection();
                    Statement s = c.createStatement();
                    ResultSet rs = s.executeQuery("SELECT current_setting('application_name'),"
                            + " inet_server_addr()::text, current_user")) {
                rs.next();
                assertEquals("throwaway-test", rs.getString(1));
                assertEquals("127.0.0.1/32", rs.getString(2));
                assertEquals("postgres", rs.getString(3));
            }
            try (Connection monitor = pg.monitor(); Statement s = monitor.createStatement();
                    ResultSet rs = s.executeQuery("SELECT current_setting('application_name')")) {
                rs.next();
                assertEquals("tether-monitor", rs.getString(1));
            }
            assertTrue(pg.jdbcUrl("x").startsWith("jdbc:postgresql://127.0.0.1:" + pg.port() + "/postgres?"));
        } finally {
            pg.close();
        }

        pg.close();   // idempotent
        assertThrows(SQLException.class, () -> pg.dataSource("after-close").getConnection().close());
        assertThrows(IOException.class, () -> new Socket(pg.host(), pg.port()).close());
    }

    @Test
    void applicationNamesThatWouldBreakTheUrlAreRefusedByName() {
        ThrowawayPostgres pg = ThrowawayPostgres.shared();

        for (String bad : new String[] {"", " ", "a&user=evil", "caf\u00e9", "a\nb"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> pg.jdbcUrl(bad), bad);
            assertTrue(e.getMessage().startsWith("applicationName: "), e.getMessage());
        }
        assertThrows(NullPointerException.class, () -> pg.dataSource(null));
        assertSame(pg, ThrowawayPostgres.shared(), "one shared cluster per JVM");
    }
}
