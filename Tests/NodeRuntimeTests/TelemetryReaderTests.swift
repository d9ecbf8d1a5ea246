import Foundation
import NodeContract
@testable import NodeRuntime
import Testing

@Suite struct TelemetryReaderTests {
    @Test func procFilesParseFromCapturedTextAndFromThisMachine() throws {
        let stat = "cpu  100 0 50 800 50 0 0 0 0 0\ncpu0 50 0 25 400 25 0 0 0 0 0\n"
        let times = try #require(LinuxTelemetryReaders.cpuTimes(stat))
        #expect(times.busy == 150 && times.total == 1000)
        let memory = LinuxTelemetryReaders.memInfo("MemTotal:       24681528 kB\nMemAvailable:   20000000 kB\nSwapTotal: 0 kB\n")
        #expect(memory["MemTotal"] == 24_681_528 && memory["MemAvailable"] == 20_000_000)
        #expect(LinuxTelemetryReaders.vmstat("pgfault 1000\npgmajfault 7\n")["pgmajfault"] == 7)
        #expect(LinuxTelemetryReaders.cpuTimes(try String(contentsOfFile: "/proc/stat", encoding: .utf8)) != nil)
        #expect((LinuxTelemetryReaders.memInfo(try String(contentsOfFile: "/proc/meminfo", encoding: .utf8))["MemTotal"] ?? 0) > 0)
        #expect(LinuxTelemetryReaders.vmstat(try String(contentsOfFile: "/proc/vmstat", encoding: .utf8))["pgfault"] != nil)
        _ = LinuxTelemetryReaders.sensors()  // this VM has no hwmon: it must simply report nothing
    }

    @Test func hwmonAndRAPLTreesAreRead() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("sys-\(UUID().uuidString)").path + "/"
        defer { try? FileManager.default.removeItem(atPath: root) }
        func write(_ path: String, _ text: String) throws {
            try FileManager.default.createDirectory(atPath: (root + path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try text.write(toFile: root + path, atomically: true, encoding: .utf8)
        }
        try write("sys/class/hwmon/hwmon0/name", "coretemp\n")
        try write("sys/class/hwmon/hwmon0/temp1_label", "Package id 0\n")
        try write("sys/class/hwmon/hwmon0/temp1_input", "61000\n")
        try write("sys/class/hwmon/hwmon0/temp2_label", "Core 0\n")
        try write("sys/class/hwmon/hwmon0/temp2_input", "58000\n")
        try write("sys/class/hwmon/hwmon1/name", "nct6775\n")
        try write("sys/class/hwmon/hwmon1/fan1_input", "1200\n")
        try write("sys/class/powercap/intel-rapl:0/energy_uj", "123456789\n")
        try write("sys/devices/system/cpu/cpu0/thermal_throttle/package_throttle_count", "12\n")
        try write("sys/devices/system/cpu/cpu0/thermal_throttle/package_throttle_total_time_ms", "1500\n")
        try write("sys/devices/system/cpu/cpu1/thermal_throttle/package_throttle_count", "14\n")
        try write("sys/devices/system/cpu/cpu1/thermal_throttle/package_throttle_total_time_ms", "1400\n")
        let sensors = LinuxTelemetryReaders.sensors(root: root)
        #expect(sensors == .init(packageCelsius: 61, coreCelsius: [58], fanRPM: [1200]))
        #expect(LinuxTelemetryReaders.raplEnergyMicrojoules(root: root) == 123_456_789)
        #expect(LinuxTelemetryReaders.throttle(root: root).map { [$0.events, $0.millis] } == [14, 1500], "the hottest package's counters")
        #expect(LinuxTelemetryReaders.throttle(root: root + "nothing/") == nil, "no counters: nil, never zero")
        #expect(LinuxTelemetryReaders.nvidiaSMISensors("0, 71, 312.55\n1, 88, [N/A]\n").map(\.celsius) == [71, 88])
    }

    @Test func enginesMetricsGiveCountersQueuesAndQuantiles() {
        let text = """
            # HELP vllm:generation_tokens_total Number of generation tokens processed.
            vllm:generation_tokens_total{model_name="m"} 1500
            vllm:num_requests_waiting{model_name="m"} 3
            vllm:e2e_request_latency_seconds_bucket{le="0.5",model_name="m"} 50
            vllm:e2e_request_latency_seconds_bucket{le="1.0",model_name="m"} 90
            vllm:e2e_request_latency_seconds_bucket{le="+Inf",model_name="m"} 100
            llamacpp:tokens_predicted_total 42
            """
        let samples = PrometheusText.parse(text)
        #expect(PrometheusText.total(samples, ["vllm:generation_tokens_total"]) == 1500)
        #expect(PrometheusText.total(samples, ["nope", "llamacpp:tokens_predicted_total"]) == 42)
        #expect(PrometheusText.total(samples, ["vllm:num_requests_waiting"]) == 3)
        let buckets = samples.filter { $0.name == "vllm:e2e_request_latency_seconds_bucket" }
        #expect(PrometheusText.quantile(0.5, buckets: buckets) == 0.5)
        #expect(abs((PrometheusText.quantile(0.7, buckets: buckets) ?? 0) - 0.75) < 1e-9)
    }

    @Test func thresholdsAlertOnEnteringAStateAndOnceMoreOnRecovery() {
        var configuration = AgentConfiguration()
        configuration.alertAcceleratorWarnCelsius = 85
        configuration.alertAcceleratorCriticalCelsius = 95
        let monitor = ThresholdMonitor(configuration: configuration)
        func batch(gpu: Double, available: Int64) -> TelemetryBatch {
            TelemetryBatch(at: 1, intervalSeconds: 60, cpuUtilization: 0.2, models: [],
                           thermal: .init(packageCelsius: 50, coreCelsius: [], acceleratorCelsius: [70, gpu], fanRPM: [], throttleEvents: nil),
                           memory: .init(totalMiB: 1000, availableMiB: available, swapUsedMiB: 0, cacheHitRate: nil, swapInPages: 0, swapOutPages: 0,
                                         majorFaults: 0, kvEvictions: nil),
                           power: .init(source: nil, packageWatts: nil, acceleratorWatts: nil))
        }
        #expect(monitor.evaluate(batch(gpu: 80, available: 500), storageLatencySeconds: 0.01).isEmpty)
        let hot = monitor.evaluate(batch(gpu: 90, available: 40), storageLatencySeconds: 0.9)
        #expect(Set(hot.map(\.kind)) == ["accelerator_temperature", "node_memory", "storage_latency"])
        #expect(hot.first { $0.kind == "node_memory" }?.severity == .critical)
        #expect(monitor.evaluate(batch(gpu: 91, available: 40), storageLatencySeconds: 0.9).isEmpty, "no repeat while the state holds")
        let worse = monitor.evaluate(batch(gpu: 97, available: 40), storageLatencySeconds: 0.9)
        #expect(worse.map(\.severity) == [.critical] && worse.first?.threshold == 95)
        let recovered = monitor.evaluate(batch(gpu: 60, available: 500), storageLatencySeconds: 0.01)
        #expect(recovered.count == 3 && recovered.allSatisfy { $0.severity == .info && $0.message.hasPrefix("recovered") })
        #expect(Set(recovered.map(\.correlationId)).count == 3)
    }
}
