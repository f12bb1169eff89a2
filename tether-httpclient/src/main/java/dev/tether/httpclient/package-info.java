/**
 * Tether for the JDK's {@link java.net.http.HttpClient}: {@link dev.tether.httpclient.TetherHttpClient} sends the
 * caller's remaining budget and its origin with each call, aborts the exchange when the caller's context ends, and
 * reads a downstream early end back into the caller's exception.
 */
@NullMarked
package dev.tether.httpclient;

import org.jspecify.annotations.NullMarked;
