import Storage

/// The telemetry store's tables: one row per series (a metric and its labels), the newest samples one
/// row each (the head, so an acknowledged batch is committed like any write), and older samples
/// compressed in chunks of one series and one block of time (`SampleChunk`).
public enum TelemetrySchema {
    public static let migrations = [
        Migration(module: "telemetry", version: 1, statements: [
            """
            CREATE TABLE telemetry_series (
                id TEXT PRIMARY KEY, metric TEXT NOT NULL, labels TEXT NOT NULL, node_id TEXT, model_id TEXT, instance_id TEXT,
                project_id TEXT, tenant_id TEXT, created_at BIGINT NOT NULL, UNIQUE (metric, labels))
            """,
            "CREATE INDEX telemetry_series_node ON telemetry_series (node_id, metric)",
            "CREATE INDEX telemetry_series_model ON telemetry_series (model_id, metric)",
            "CREATE INDEX telemetry_series_tenant ON telemetry_series (tenant_id, metric)",
            "CREATE TABLE telemetry_head (series_id TEXT NOT NULL, at BIGINT NOT NULL, value DOUBLE PRECISION NOT NULL, PRIMARY KEY (series_id, at))",
            "CREATE INDEX telemetry_head_at ON telemetry_head (at)",
            """
            CREATE TABLE telemetry_chunks (
                series_id TEXT NOT NULL, start_at BIGINT NOT NULL, end_at BIGINT NOT NULL, samples BIGINT NOT NULL, data TEXT NOT NULL,
                PRIMARY KEY (series_id, start_at))
            """,
            "CREATE INDEX telemetry_chunks_end ON telemetry_chunks (end_at)",
        ]),
        // Alert rules as data: a metric against a threshold, held `for_seconds`, for every series or one node's or tenant's.
        Migration(module: "telemetry", version: 2, statements: [
            """
            CREATE TABLE alert_rules (
                id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, metric TEXT NOT NULL, comparison TEXT NOT NULL, threshold DOUBLE PRECISION NOT NULL,
                for_seconds BIGINT NOT NULL, severity TEXT NOT NULL, node_id TEXT, tenant_id TEXT, enabled BIGINT NOT NULL, builtin BIGINT NOT NULL,
                created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL, version BIGINT NOT NULL)
            """,
        ]),
        // The head as frames, one row per node and time (see `HeadFrame`), and series ids grouped by node. The v1 head and
        // series never left development builds (they came and went with issue 18's work), so they are replaced, not moved.
        Migration(module: "telemetry", version: 3, statements: [
            "DROP TABLE telemetry_head",
            "DROP TABLE telemetry_chunks",
            "DROP TABLE telemetry_series",
            """
            CREATE TABLE telemetry_series (
                id TEXT PRIMARY KEY, metric TEXT NOT NULL, labels TEXT NOT NULL, node_id TEXT, model_id TEXT, instance_id TEXT,
                project_id TEXT, tenant_id TEXT, created_at BIGINT NOT NULL)
            """,
            "CREATE INDEX telemetry_series_node ON telemetry_series (node_id, metric)",
            "CREATE INDEX telemetry_series_model ON telemetry_series (model_id, metric)",
            "CREATE INDEX telemetry_series_tenant ON telemetry_series (tenant_id, metric)",
            """
            CREATE TABLE telemetry_frames (
                series_group TEXT NOT NULL, at BIGINT NOT NULL, part BIGINT NOT NULL, samples BIGINT NOT NULL, data TEXT NOT NULL,
                PRIMARY KEY (series_group, at, part))
            """,
            "CREATE INDEX telemetry_frames_at ON telemetry_frames (at)",
            """
            CREATE TABLE telemetry_chunks (
                series_id TEXT NOT NULL, start_at BIGINT NOT NULL, end_at BIGINT NOT NULL, samples BIGINT NOT NULL, data TEXT NOT NULL,
                PRIMARY KEY (series_id, start_at))
            """,
            "CREATE INDEX telemetry_chunks_end ON telemetry_chunks (end_at)",
        ]),
        // Incidents (docs/telemetry.md): alerts grouped by correlation key, the steps from detection to review.
        Migration(module: "telemetry", version: 4, statements: [
            """
            CREATE TABLE incidents (
                id TEXT PRIMARY KEY, title TEXT NOT NULL, severity TEXT NOT NULL, state TEXT NOT NULL, correlation_key TEXT NOT NULL,
                correlation_id TEXT NOT NULL, source TEXT NOT NULL, node_id TEXT, agent_id TEXT, tenant_id TEXT, owner TEXT,
                alert_count BIGINT NOT NULL, detected_at BIGINT NOT NULL, last_alert_at BIGINT NOT NULL, acknowledged_at BIGINT,
                investigating_at BIGINT, resolved_at BIGINT, reviewed_at BIGINT, review TEXT, version BIGINT NOT NULL, updated_at BIGINT NOT NULL)
            """,
            "CREATE INDEX incidents_correlation ON incidents (correlation_key, state)",
            "CREATE INDEX incidents_tenant ON incidents (tenant_id, id)",
            "CREATE INDEX incidents_state ON incidents (state, id)",
            """
            CREATE TABLE incident_alerts (
                alert_id TEXT PRIMARY KEY, incident_id TEXT NOT NULL REFERENCES incidents(id) ON DELETE CASCADE, correlation_id TEXT NOT NULL,
                kind TEXT NOT NULL, severity TEXT NOT NULL, recovery BIGINT NOT NULL, message TEXT NOT NULL, at BIGINT NOT NULL)
            """,
            "CREATE INDEX incident_alerts_incident ON incident_alerts (incident_id, at)",
            """
            CREATE TABLE incident_events (
                id TEXT PRIMARY KEY, incident_id TEXT NOT NULL REFERENCES incidents(id) ON DELETE CASCADE, at BIGINT NOT NULL,
                actor TEXT NOT NULL, kind TEXT NOT NULL, note TEXT)
            """,
            "CREATE INDEX incident_events_incident ON incident_events (incident_id, at)",
        ]),
        // Where incidents are announced, and which version of each incident each target has heard of.
        Migration(module: "telemetry", version: 5, statements: [
            """
            CREATE TABLE notification_targets (
                id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, kind TEXT NOT NULL, url TEXT NOT NULL, enabled BIGINT NOT NULL,
                created_at BIGINT NOT NULL, version BIGINT NOT NULL)
            """,
            """
            CREATE TABLE notification_deliveries (
                target_id TEXT NOT NULL, incident_id TEXT NOT NULL, version BIGINT NOT NULL, delivered_at BIGINT NOT NULL,
                PRIMARY KEY (target_id, incident_id))
            """,
            "CREATE INDEX incidents_updated ON incidents (updated_at)",
        ]),
        // Thresholds at tenant and node level: a rule may override a platform rule for its scope (`RuleScopes`).
        Migration(module: "telemetry", version: 6, statements: ["ALTER TABLE alert_rules ADD COLUMN overrides TEXT"]),
        // Baseline rules: the series against its own average over the last hours.
        Migration(module: "telemetry", version: 7, statements: ["ALTER TABLE alert_rules ADD COLUMN baseline_hours BIGINT"]),
        // Change rules: the series' rise over the last minutes (a restart counter's crash loop).
        // and NodeThrottling on the share of time throttled (the seed's 3%), no longer on any throttle event.
        Migration(module: "telemetry", version: 8, statements: [
            "ALTER TABLE alert_rules ADD COLUMN change_minutes BIGINT",
            "UPDATE alert_rules SET metric = 'node_throttled_fraction', threshold = 0.03 WHERE name = 'NodeThrottling' AND builtin = 1 AND metric = 'node_throttle_events'",
        ]),
        // Mergeable latency histograms: one row per instance and interval (`LatencyHistogram`, encoded), its series in telemetry_series.
        Migration(module: "telemetry", version: 9, statements: [
            "CREATE TABLE telemetry_histograms (series_id TEXT NOT NULL, at BIGINT NOT NULL, count BIGINT NOT NULL, data TEXT NOT NULL, PRIMARY KEY (series_id, at))",
            "CREATE INDEX telemetry_histograms_at ON telemetry_histograms (at)",
        ]),
        // The cold archive's objects on the backup target: a day's rollups in parts of a few thousand series each, and a
        // part -1 once the whole day is there (hot chunks of a day go only then).
        Migration(module: "telemetry", version: 10, statements: [
            """
            CREATE TABLE telemetry_cold_parts (day BIGINT NOT NULL, part BIGINT NOT NULL, object TEXT NOT NULL, rollups BIGINT NOT NULL,
                                               archived_at BIGINT NOT NULL, PRIMARY KEY (day, part))
            """,
        ]),
        // Daily rollups of every series (count, sum, min, max) kept hot beside the samples, for the reports: a month of a
        // large fleet is thirty rows a series, not forty thousand samples.
        Migration(module: "telemetry", version: 11, statements: [
            """
            CREATE TABLE telemetry_daily (series_id TEXT NOT NULL, day BIGINT NOT NULL, metric TEXT NOT NULL, node_id TEXT, model_id TEXT,
                                          project_id TEXT, tenant_id TEXT, samples BIGINT NOT NULL, total DOUBLE PRECISION NOT NULL,
                                          smallest DOUBLE PRECISION NOT NULL, largest DOUBLE PRECISION NOT NULL, PRIMARY KEY (series_id, day))
            """,
            "CREATE INDEX telemetry_daily_tenant ON telemetry_daily (tenant_id, metric, day)",
            "CREATE INDEX telemetry_daily_metric ON telemetry_daily (metric, day)",
            "CREATE TABLE telemetry_daily_days (day BIGINT PRIMARY KEY, series BIGINT NOT NULL, rolled_at BIGINT NOT NULL)",
        ]),
    ]
}
