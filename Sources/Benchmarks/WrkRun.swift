import Foundation
import ControllerClient

/// One load run by `wrk` (a real HTTP load generator in its own process) and its parsed figures.
struct WrkRun {
    var name: String
    var requestsPerSecond: Double
    var p50Millis: Double
    var p99Millis: Double
    var errors: Int
    var requests: Int

    /// Runs wrk against `url` for `seconds` with `connections` connections on 2 threads.
    static func run(name: String, url: String, seconds: Int, connections: Int, script: String?) async throws -> WrkRun {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        var arguments = ["wrk", "-t2", "-c\(connections)", "-d\(seconds)s", "--latency"]
        if let script { arguments += ["-s", script] }
        process.arguments = arguments + [url]
        let (output, status) = try await ChildOutput.run(process, mergingStandardError: true)
        // A complete report counts even when the exit status was misread (the child's reaping raced Foundation's once).
        guard status == 0 || output.contains("Requests/sec:") else { throw CLIError.io("wrk failed (is it installed? apt-get install wrk):\n\(output)") }
        return WrkRun(name: name, requestsPerSecond: number(after: "Requests/sec:", in: output),
                      p50Millis: latency("50%", in: output), p99Millis: latency("99%", in: output),
                      errors: Int(number(after: "Non-2xx or 3xx responses:", in: output)) + socketErrors(output),
                      requests: Int(number(after: "", in: output.components(separatedBy: "\n").first { $0.contains("requests in") } ?? "")))
    }

    private static func number(after label: String, in text: String) -> Double {
        guard let line = text.components(separatedBy: "\n").first(where: { label.isEmpty || $0.contains(label) }) else { return 0 }
        let tail = label.isEmpty ? line : String(line[line.range(of: label)!.upperBound...])
        return Double(tail.trimmingCharacters(in: .whitespaces).components(separatedBy: " ").first ?? "") ?? 0
    }

    /// A latency line of `--latency` output, e.g. `     99%    4.56ms`, in milliseconds.
    private static func latency(_ percentile: String, in text: String) -> Double {
        guard let line = text.components(separatedBy: "\n").first(where: { $0.trimmingCharacters(in: .whitespaces).hasPrefix(percentile + " ") })
        else { return 0 }
        let value = line.trimmingCharacters(in: .whitespaces).components(separatedBy: " ").last { !$0.isEmpty } ?? ""
        for (unit, factor) in [("us", 0.001), ("ms", 1.0), ("s", 1000.0)] where value.hasSuffix(unit) {
            return (Double(value.dropLast(unit.count)) ?? 0) * factor
        }
        return 0
    }

    private static func socketErrors(_ text: String) -> Int {
        guard let line = text.components(separatedBy: "\n").first(where: { $0.contains("Socket errors:") }) else { return 0 }
        return line.components(separatedBy: CharacterSet.decimalDigits.inverted).compactMap(Int.init).reduce(0, +)
    }
}
