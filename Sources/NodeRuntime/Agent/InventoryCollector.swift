import Foundation
import NodeContract
import Provisioner

/// Reads the node's hardware: Linux sources, and each vendor's tool where it is installed
/// (`nvidia-smi`, `rocm-smi`, `xpu-smi`). Blocking: run it on a worker thread.
enum InventoryCollector {
    static func collect() -> InventoryReport {
        let linux = try? LinuxInventoryParsers.read()
        var accelerators: [Provisioner.Accelerator] = []
        if let output = run("nvidia-smi", ["--query-gpu=index,name,memory.total", "--format=csv,noheader,nounits"]) {
            accelerators += (try? VendorToolParsers.nvidiaSMI(output)) ?? []
        }
        if let output = run("rocm-smi", ["--showproductname", "--showmeminfo", "vram", "--json"]) {
            accelerators += (try? VendorToolParsers.rocmSMI(output)) ?? []
        }
        if let output = run("xpu-smi", ["discovery", "--json"]) {
            accelerators += (try? VendorToolParsers.xpuSMI(output)) ?? []
        }
        return InventoryReport(
            cpuModel: linux?.cpuModel, cpuCores: linux?.cpuThreads ?? ProcessInfo.processInfo.activeProcessorCount,
            memoryMiB: Int((linux?.memoryKiB ?? Int64(ProcessInfo.processInfo.physicalMemory / 1024)) / 1024),
            accelerators: accelerators.map { .init(vendor: $0.vendor, model: $0.model, memoryMiB: $0.memoryMiB, count: $0.count, interconnect: $0.interconnect) },
            disks: linux?.disks.map { "\($0.name) \($0.bytes / 1_000_000_000) GB" } ?? [],
            nics: linux?.nics.map { [$0.name, $0.mac].compactMap { $0 }.joined(separator: " ") } ?? [])
    }

    /// A tool's standard output, or nil when it is not installed or fails.
    private static func run(_ tool: String, _ arguments: [String]) -> String? {
        let paths = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
        guard let found = paths.map({ "\($0)/\(tool)" }).first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else { return nil }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: found)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return nil }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return process.terminationStatus == 0 ? String(decoding: data, as: UTF8.self) : nil
    }
}
