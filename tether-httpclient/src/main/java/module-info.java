/** Tether for java.net.http.HttpClient: calls that carry the budget and end with the caller's context. */
module dev.tether.httpclient {
    requires transitive dev.tether.wire;
    requires transitive java.net.http;
    requires static org.jspecify;

    exports dev.tether.httpclient;
}
