import Foundation
import Metrics
import Prometheus

/// swift-metrics → Prometheus with the exposition format's conventions, which `promtool check
/// metrics` enforces: names and label names of `[a-zA-Z_:][a-zA-Z0-9_:]*` (Hummingbird names its
/// metrics `hb.requests`, `http.server.request.duration`), counters ending in `_total`, durations
/// in `_seconds`, and a `# HELP` line for every metric.
struct PrometheusNaming: MetricsFactory {
    let registry: PrometheusCollectorRegistry
    let durationBuckets: [Duration]
    let valueBuckets: [Double] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000]

    /// What each metric means, by its exposed name; anything else is described by its name.
    static let help: [String: String] = [
        "hb_requests_total": "HTTP requests answered by the controller's REST API, by route, method and status.",
        "hb_request_errors_total": "HTTP requests of the REST API that ended in an error, by route, method and status.",
        "http_server_request_duration_seconds": "Time to answer a REST API request, by route, method and status.",
        "http_server_active_requests": "REST API requests being answered now, by method.",
        "metalplane_store_duration_seconds": "Time of a store unit of work (read or write, including the wait for the writer's group commit).",
        "metalplane_backup_last_success_timestamp_seconds": "When the last successful backup finished (Unix time).",
        "metalplane_backup_last_size_bytes": "Stored size of the last successful backup.",
        "metalplane_backup_last_duration_seconds": "How long the last successful backup took.",
        "metalplane_backup_missed": "1 when no backup has succeeded within the alert window (backupAlertAfterHours), else 0.",
    ]

    /// `name` with every character Prometheus does not allow replaced by `_`.
    static func sanitized(_ name: String) -> String {
        var result = String(name.unicodeScalars.map { scalar -> Character in
            let allowed = ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar) || scalar == "_" || scalar == ":"
            return allowed ? Character(scalar) : "_"
        })
        if let first = result.unicodeScalars.first, ("0"..."9").contains(first) { result = "_" + result }
        return result
    }

    static func counterName(_ label: String) -> String {
        let name = sanitized(label)
        return name.hasSuffix("_total") ? name : name + "_total"
    }

    static func durationName(_ label: String) -> String {
        let name = sanitized(label)
        return name.hasSuffix("_seconds") ? name : name + "_seconds"
    }

    static func helpText(_ name: String) -> String {
        help[name] ?? "Metalplane metric \(name.replacingOccurrences(of: "_", with: " "))."
    }

    /// The whole name as the metric name (the unit is already in it), with its help text.
    static func descriptor(_ name: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: name, unitName: "", helpText: helpText(name))
    }

    private static func labels(_ dimensions: [(String, String)]) -> [(String, String)] {
        dimensions.map { (sanitized($0.0), $0.1) }
    }

    func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        let name = Self.counterName(label)
        return registry.makeCounter(descriptor: Self.descriptor(name), labels: Self.labels(dimensions))
    }

    func makeFloatingPointCounter(label: String, dimensions: [(String, String)]) -> any FloatingPointCounterHandler {
        let name = Self.counterName(label)
        return registry.makeCounter(descriptor: Self.descriptor(name), labels: Self.labels(dimensions))
    }

    func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        let name = Self.sanitized(label)
        guard aggregate else { return registry.makeGauge(descriptor: Self.descriptor(name), labels: Self.labels(dimensions)) }
        return registry.makeValueHistogram(descriptor: Self.descriptor(name), labels: Self.labels(dimensions), buckets: valueBuckets)
    }

    func makeMeter(label: String, dimensions: [(String, String)]) -> any MeterHandler {
        let name = Self.sanitized(label)
        return registry.makeGauge(descriptor: Self.descriptor(name), labels: Self.labels(dimensions))
    }

    func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        let name = Self.durationName(label)
        return registry.makeDurationHistogram(descriptor: Self.descriptor(name), labels: Self.labels(dimensions), buckets: durationBuckets)
    }

    func destroyCounter(_ handler: any CounterHandler) {
        if let counter = handler as? Prometheus.Counter { registry.unregisterCounter(counter) }
    }

    func destroyFloatingPointCounter(_ handler: any FloatingPointCounterHandler) {
        if let counter = handler as? Prometheus.Counter { registry.unregisterCounter(counter) }
    }

    func destroyRecorder(_ handler: any RecorderHandler) {
        switch handler {
        case let gauge as Prometheus.Gauge: registry.unregisterGauge(gauge)
        case let histogram as Prometheus.ValueHistogram: registry.unregisterValueHistogram(histogram)
        default: break
        }
    }

    func destroyMeter(_ handler: any MeterHandler) {
        if let gauge = handler as? Prometheus.Gauge { registry.unregisterGauge(gauge) }
    }

    func destroyTimer(_ handler: any TimerHandler) {
        if let histogram = handler as? Prometheus.DurationHistogram { registry.unregisterDurationHistogram(histogram) }
    }
}
