// Run by hand: jshell --class-path carapace-verify/target/carapace-verify.jar carapace-verify/src/test/jshell/accumulator-rate.jsh
// Roots 2,000,000 leaves of 300 bytes (leaf hashing included) three times, printing leaves per second.
import health.carapace.verify.MerkleAccumulator;
byte[] leaf = new byte[300];
for (int round = 0; round < 3; round++) {
    long started = System.nanoTime();
    MerkleAccumulator accumulator = new MerkleAccumulator();
    for (int i = 0; i < 2_000_000; i++) {
        leaf[0] = (byte) i;
        leaf[1] = (byte) (i >> 8);
        leaf[2] = (byte) (i >> 16);
        accumulator.appendLeaf(leaf);
    }
    accumulator.root();
    System.out.printf("%,.0f leaves/s%n", 2e6 / ((System.nanoTime() - started) / 1e9));
}
/exit
