/**
 * What an outside auditor needs to check a Carapace audit trail without trusting the server,
 * and the server's only Merkle and tree-head code.
 *
 * <ul>
 *   <li>RFC 6962 Merkle trees: {@link health.carapace.verify.MerkleHash} (leaf and node
 *       hashing), {@link health.carapace.verify.MerkleAccumulator} (streaming root, O(log n)
 *       memory), {@link health.carapace.verify.MerkleTree} (in-memory tree that makes proofs),
 *       {@link health.carapace.verify.InclusionProof} and
 *       {@link health.carapace.verify.ConsistencyProof}.</li>
 *   <li>Signed tree heads: {@link health.carapace.verify.TreeHead} (one canonical encoding),
 *       {@link health.carapace.verify.TreeHeadSigner}, {@link health.carapace.verify.TreeHeadVerifier}
 *       (Ed25519 through the JDK).</li>
 *   <li>Audit export bundles: {@link health.carapace.verify.BundleWriter},
 *       {@link health.carapace.verify.BundleVerifier} and the command line,
 *       {@link health.carapace.verify.VerifyCommand}.</li>
 * </ul>
 *
 * Verification failures are checked {@link health.carapace.verify.VerificationException}s, never
 * booleans. The bundle format and the trust model are in the module's README.md.
 */
package health.carapace.verify;
