import Foundation

/// Readers of the kernel's telemetry sources, as pure functions of the files' text (tested on
/// captured fixtures) plus small walkers of /sys that take a root directory (tested on fixture trees
/// and on this machine's real /sys and /proc).
enum LinuxTelemetryReaders {
    /// `/proc/stat`'s aggregate `cpu` line: busy and total jiffies.
    static func cpuTimes(_ text: String) -> (busy: Int64, total: Int64)? {
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("cpu ") }) else { return nil }
        let values = line.split(separator: " ").dropFirst().compactMap { Int64($0) }
        guard values.count >= 4 else { return nil }
        let idle = values[3] + (values.count > 4 ? values[4] : 0)
        let total = values.reduce(0, +)
        return (total - idle, total)
    }

    /// `/proc/meminfo` as kB by key.
    static func memInfo(_ text: String) -> [String: Int64] {
        var values: [String: Int64] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 1)
            guard parts.count == 2, let number = Int64(parts[1].split(separator: " ").first ?? "") else { continue }
            values[String(parts[0])] = number
        }
        return values
    }

    /// `/proc/vmstat` counters by name.
    static func vmstat(_ text: String) -> [String: Int64] {
        var values: [String: Int64] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: " ")
            if parts.count == 2, let number = Int64(parts[1]) { values[String(parts[0])] = number }
        }
        return values
    }

    struct Sensors: Equatable {
        var packageCelsius: Double?
        var coreCelsius: [Double] = []
        var fanRPM: [Double] = []
    }

    /// `/sys/class/hwmon/*`: CPU package and core temperatures (coretemp, k10temp, zenpower) and fans,
    /// falling back to `/sys/class/thermal/thermal_zone*` (x86_pkg_temp, cpu-thermal) for the package.
    static func sensors(root: String = "/") -> Sensors {
        var sensors = Sensors()
        let hwmon = root + "sys/class/hwmon"
        for device in ((try? FileManager.default.contentsOfDirectory(atPath: hwmon)) ?? []).sorted() {
            let base = hwmon + "/" + device + "/"
            let name = read(base + "name") ?? ""
            let files = ((try? FileManager.default.contentsOfDirectory(atPath: base)) ?? []).sorted()
            for file in files where file.hasPrefix("fan") && file.hasSuffix("_input") {
                if let rpm = read(base + file).flatMap(Double.init) { sensors.fanRPM.append(rpm) }
            }
            guard ["coretemp", "k10temp", "zenpower", "cpu_thermal"].contains(name) else { continue }
            for file in files where file.hasPrefix("temp") && file.hasSuffix("_input") {
                guard let milli = read(base + file).flatMap(Double.init) else { continue }
                let label = read(base + file.replacingOccurrences(of: "_input", with: "_label")) ?? ""
                if label.hasPrefix("Package") || label == "Tctl" || label == "Tdie" || (label.isEmpty && sensors.packageCelsius == nil) {
                    sensors.packageCelsius = milli / 1000
                } else {
                    sensors.coreCelsius.append(milli / 1000)
                }
            }
        }
        if sensors.packageCelsius == nil {
            let thermal = root + "sys/class/thermal"
            for zone in ((try? FileManager.default.contentsOfDirectory(atPath: thermal)) ?? []).sorted() where zone.hasPrefix("thermal_zone") {
                let type = read(thermal + "/" + zone + "/type") ?? ""
                if ["x86_pkg_temp", "cpu-thermal", "cpu_thermal", "acpitz"].contains(type),
                   let milli = read(thermal + "/" + zone + "/temp").flatMap(Double.init) {
                    sensors.packageCelsius = milli / 1000
                    break
                }
            }
        }
        return sensors
    }

    /// The kernel's thermal throttle counters (`/sys/devices/system/cpu/cpu*/thermal_throttle/`, Intel): package throttle
    /// events and milliseconds spent throttled, cumulative. Every CPU of a package shows the package's counters, so the
    /// largest is the hottest package's. Nil where the kernel offers none (AMD, most VMs).
    static func throttle(root: String = "/") -> (events: Int64, millis: Int64)? {
        let cpus = root + "sys/devices/system/cpu"
        var found: (events: Int64, millis: Int64)?
        for cpu in ((try? FileManager.default.contentsOfDirectory(atPath: cpus)) ?? []) where cpu.hasPrefix("cpu") && cpu.dropFirst(3).allSatisfy(\.isNumber) {
            let base = cpus + "/" + cpu + "/thermal_throttle/"
            guard let events = read(base + "package_throttle_count").flatMap({ Int64($0) }) else { continue }
            let millis = read(base + "package_throttle_total_time_ms").flatMap { Int64($0) } ?? 0
            found = (max(found?.events ?? 0, events), max(found?.millis ?? 0, millis))
        }
        return found
    }

    /// Cumulative package energy from RAPL (`/sys/class/powercap/intel-rapl:0/energy_uj`), microjoules.
    static func raplEnergyMicrojoules(root: String = "/") -> Int64? {
        read(root + "sys/class/powercap/intel-rapl:0/energy_uj").flatMap { Int64($0) }
    }

    /// `nvidia-smi --query-gpu=index,temperature.gpu,power.draw --format=csv,noheader,nounits`.
    static func nvidiaSMISensors(_ text: String) -> [(celsius: Double?, watts: Double?)] {
        text.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            guard fields.count >= 3, Int(fields[0]) != nil else { return nil }
            return (Double(fields[1]), Double(fields[2]))
        }
    }

    private static func read(_ path: String) -> String? {
        (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

/// Prometheus text exposition, as engines serve it at `/metrics` (llama.cpp's `llamacpp:*`, vLLM's `vllm:*`).
enum PrometheusText {
    struct Sample: Equatable {
        var name: String
        var labels: [String: String]
        var value: Double
    }

    static func parse(_ text: String) -> [Sample] {
        text.split(separator: "\n").compactMap { raw in
            let line = raw.trimmingCharacters(in: .whitespaces)
            guard !line.isEmpty, !line.hasPrefix("#") else { return nil }
            var name = line
            var labels: [String: String] = [:]
            var rest = ""
            if let open = line.firstIndex(of: "{"), let close = line.lastIndex(of: "}") {
                name = String(line[..<open])
                for pair in line[line.index(after: open)..<close].split(separator: ",") {
                    let kv = pair.split(separator: "=", maxSplits: 1)
                    if kv.count == 2 { labels[String(kv[0])] = kv[1].trimmingCharacters(in: CharacterSet(charactersIn: "\"")) }
                }
                rest = String(line[line.index(after: close)...])
            } else if let space = line.firstIndex(of: " ") {
                name = String(line[..<space])
                rest = String(line[space...])
            }
            guard let value = rest.split(separator: " ").first.flatMap({ Double($0) }) else { return nil }
            return Sample(name: name, labels: labels, value: value)
        }
    }

    /// The sum of every sample named one of `names` (the first name present wins).
    static func total(_ samples: [Sample], _ names: [String]) -> Double? {
        for name in names {
            let matching = samples.filter { $0.name == name }
            if !matching.isEmpty { return matching.map(\.value).reduce(0, +) }
        }
        return nil
    }

    /// A quantile from a cumulative histogram's `_bucket` samples (`le` labels), by linear interpolation.
    static func quantile(_ q: Double, buckets samples: [Sample]) -> Double? {
        let buckets = samples.compactMap { sample -> (Double, Double)? in
            guard let le = sample.labels["le"] else { return nil }
            return (le == "+Inf" ? Double.infinity : Double(le) ?? .nan, sample.value)
        }.filter { !$0.0.isNaN }.sorted { $0.0 < $1.0 }
        guard let total = buckets.last?.1, total > 0 else { return nil }
        let rank = q * total
        var previous: (Double, Double) = (0, 0)
        for bucket in buckets {
            if bucket.1 >= rank {
                if bucket.0.isInfinite { return previous.0 }
                let span = bucket.1 - previous.1
                return span > 0 ? previous.0 + (bucket.0 - previous.0) * (rank - previous.1) / span : bucket.0
            }
            previous = bucket
        }
        return previous.0
    }
}
