/**
 * Tether for JDBC: {@link dev.tether.jdbc.TetherDataSource} wraps a {@link javax.sql.DataSource} so that every
 * statement run while a context is current gets the context's remaining budget as its timeout, is cancelled when
 * the context ends, and is refused before it is sent once the budget is spent.
 *
 * <p>The public types are null-marked; the package-private JDBC wrappers follow JDBC's own unannotated
 * interfaces, where almost every argument and result may be null, and are marked {@code @NullUnmarked}.
 */
@NullMarked
package dev.tether.jdbc;

import org.jspecify.annotations.NullMarked;
