/// The SQL engine behind a connection. Domain SQL is written once, portable; the few places where
/// the engines differ (a migration's backfill, the audit log's sequence) ask which one they run on.
public enum SQLDialect: Sendable, Equatable {
    case sqlite
    case postgresql
}
