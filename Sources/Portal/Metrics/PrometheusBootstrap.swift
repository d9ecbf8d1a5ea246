import Metrics
import Prometheus

/// The process's Prometheus registry; swift-metrics is bootstrapped with it exactly once
/// (a second bootstrap traps, and tests build many controllers in one process).
public enum PrometheusBootstrap {
    /// The registry `/metrics` renders.
    public static let registry: PrometheusCollectorRegistry = {
        let registry = PrometheusCollectorRegistry()
        let factory = PrometheusNaming(registry: registry, durationBuckets: [
            .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5),
            .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
            .seconds(1), .seconds(2.5), .seconds(5),
        ])
        MetricsSystem.bootstrap(factory)
        return registry
    }()
}
