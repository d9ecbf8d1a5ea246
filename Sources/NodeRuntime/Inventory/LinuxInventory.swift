import Foundation

/// What Linux says about a node's CPU, memory, NICs and disks.
public struct LinuxInventory: Sendable, Equatable, Codable {
    public struct NIC: Sendable, Equatable, Codable {
        public var name: String
        public var mac: String?
        public var speedMbps: Int?
    }

    public struct Disk: Sendable, Equatable, Codable {
        public var name: String
        public var bytes: Int64
        public var rotational: Bool?
    }

    public var cpuModel: String?
    /// Logical CPUs (the `processor` entries).
    public var cpuThreads: Int
    /// Physical sockets (distinct `physical id`s; 1 when the file has none).
    public var cpuSockets: Int
    public var memoryKiB: Int64
    public var nics: [NIC] = []
    public var disks: [Disk] = []
}

/// Readers of /proc and /sys, as pure functions of the files' text so they test on fixtures.
public enum LinuxInventoryParsers {
    /// `/proc/cpuinfo`: model, threads, sockets.
    public static func cpuInfo(_ text: String) throws(InventoryParseError) -> (model: String?, threads: Int, sockets: Int) {
        var model: String?
        var threads = 0
        var sockets = Set<String>()
        for line in text.split(whereSeparator: \.isNewline) {
            let parts = line.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2 else { continue }
            switch parts[0] {
            case "processor": threads += 1
            case "model name": model = model ?? parts[1]
            case "physical id": sockets.insert(parts[1])
            default: break
            }
        }
        guard threads > 0 else { throw InventoryParseError(source: "/proc/cpuinfo", reason: "no processor entries") }
        return (model, threads, max(sockets.count, 1))
    }

    /// `/proc/meminfo`: MemTotal in KiB.
    public static func memTotalKiB(_ text: String) throws(InventoryParseError) -> Int64 {
        for line in text.split(whereSeparator: \.isNewline) where line.hasPrefix("MemTotal:") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 2, let value = Int64(fields[1]) else {
                throw InventoryParseError(source: "/proc/meminfo", reason: "MemTotal is not a number: \(line)")
            }
            return value
        }
        throw InventoryParseError(source: "/proc/meminfo", reason: "no MemTotal line")
    }

    /// The whole inventory from a root directory (`/` on a node; a fixture tree in tests).
    public static func read(root: String = "/") throws -> LinuxInventory {
        func text(_ path: String) -> String? { try? String(contentsOfFile: root + path, encoding: .utf8) }
        guard let cpuText = text("proc/cpuinfo") else { throw InventoryParseError(source: "/proc/cpuinfo", reason: "unreadable") }
        guard let memText = text("proc/meminfo") else { throw InventoryParseError(source: "/proc/meminfo", reason: "unreadable") }
        let cpu = try cpuInfo(cpuText)
        var inventory = LinuxInventory(cpuModel: cpu.model, cpuThreads: cpu.threads, cpuSockets: cpu.sockets, memoryKiB: try memTotalKiB(memText))
        let fileManager = FileManager.default
        for name in ((try? fileManager.contentsOfDirectory(atPath: root + "sys/class/net")) ?? []).sorted() where name != "lo" {
            let base = "sys/class/net/\(name)/"
            inventory.nics.append(LinuxInventory.NIC(name: name, mac: text(base + "address")?.trimmingCharacters(in: .whitespacesAndNewlines),
                                                     speedMbps: text(base + "speed").flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }.flatMap { $0 > 0 ? $0 : nil }))
        }
        for name in ((try? fileManager.contentsOfDirectory(atPath: root + "sys/block")) ?? []).sorted()
        where !name.hasPrefix("loop") && !name.hasPrefix("ram") {
            let base = "sys/block/\(name)/"
            guard let sectors = text(base + "size").flatMap({ Int64($0.trimmingCharacters(in: .whitespacesAndNewlines)) }) else { continue }
            inventory.disks.append(LinuxInventory.Disk(name: name, bytes: sectors * 512,
                                                       rotational: text(base + "queue/rotational").map { $0.hasPrefix("1") }))
        }
        return inventory
    }
}
