"""Service meshes and mTLS: Linkerd, Istio and Cilium compared, simulated on loopback, and configured.

- :mod:`~mtlslab.mesh.facts`: what each mesh does for mTLS, each fact with its sources.
- :mod:`~mtlslab.mesh.certificates`: workload certificates in each mesh's format.
- :mod:`~mtlslab.mesh.simulator`: workloads behind sidecar-style proxies, PERMISSIVE or STRICT.
- :mod:`~mtlslab.mesh.manifests`: PeerAuthentication, Server, CiliumNetworkPolicy and friends.
- :mod:`~mtlslab.mesh.validation`: checks manifests against the meshes' CRD schemas.
- :mod:`~mtlslab.mesh.proof`: three ways per mesh to prove that mTLS is on.
"""
