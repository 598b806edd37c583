/**
 * Node and link lists of the backbone topologies, from their public descriptions.
 *
 * Both lists are the ones used by the simulators of the INFIDA authors' group (the same node names
 * and links): `tareq-si-salem/Online-Multi-Agent-Cache-Networks`, file `topologies.py`, functions
 * `Abilene()` (9 PoPs, 13 links) and `GEANT()` (22 PoPs, 33 links), which in turn follow the
 * topology files of the ICN caching simulators (Icarus / ccnSim). The IDN paper's own topology
 * sizes could not be checked, so these are the group's sibling topologies, not
 * necessarily the paper's.
 *
 * Abilene PoPs are US cities; their coordinates (city centres, degrees) are public geography and
 * give link latencies by great-circle distance (topologies.ts). The GEANT list is anonymised in
 * that source (node0..nodeL), so its link latencies are drawn from a seeded range instead.
 */

export interface PopData {
  id: string;
  /** Longitude, latitude (degrees), when known. */
  lon?: number;
  lat?: number;
}

export const ABILENE_SOURCE =
  "Abilene (Internet2) backbone, 9 PoPs / 13 links as in tareq-si-salem/Online-Multi-Agent-Cache-Networks topologies.py Abilene(); city coordinates: public geography";

export const ABILENE_POPS: PopData[] = [
  { id: "NEWY", lon: -74.01, lat: 40.71 },
  { id: "WASH", lon: -77.04, lat: 38.91 },
  { id: "CHIC", lon: -87.63, lat: 41.88 },
  { id: "ATLA", lon: -84.39, lat: 33.75 },
  { id: "HOUS", lon: -95.37, lat: 29.76 },
  { id: "KANS", lon: -94.58, lat: 39.1 },
  { id: "SALT", lon: -111.89, lat: 40.76 },
  { id: "LOSA", lon: -118.24, lat: 34.05 },
  { id: "SEAT", lon: -122.33, lat: 47.61 },
];

export const ABILENE_LINKS: Array<[string, string]> = [
  ["NEWY", "WASH"],
  ["NEWY", "CHIC"],
  ["CHIC", "WASH"],
  ["ATLA", "WASH"],
  ["ATLA", "CHIC"],
  ["ATLA", "HOUS"],
  ["KANS", "CHIC"],
  ["KANS", "HOUS"],
  ["KANS", "SALT"],
  ["LOSA", "HOUS"],
  ["LOSA", "SALT"],
  ["LOSA", "SEAT"],
  ["SALT", "SEAT"],
];

export const GEANT_SOURCE =
  "GEANT pan-European research network, 22 PoPs / 33 links as in tareq-si-salem/Online-Multi-Agent-Cache-Networks topologies.py GEANT() (anonymised node names)";

export const GEANT_POPS: PopData[] = [
  "node0",
  "node1",
  "node2",
  "node3",
  "node4",
  "node5",
  "node6",
  "node7",
  "node8",
  "node9",
  "nodeA",
  "nodeB",
  "nodeC",
  "nodeD",
  "nodeE",
  "nodeF",
  "nodeG",
  "nodeH",
  "nodeI",
  "nodeJ",
  "nodeK",
  "nodeL",
].map((id) => ({ id }));

export const GEANT_LINKS: Array<[string, string]> = [
  ["node0", "node1"],
  ["node0", "nodeL"],
  ["node1", "node2"],
  ["node1", "node3"],
  ["node1", "nodeF"],
  ["node2", "node3"],
  ["node3", "nodeC"],
  ["node3", "node4"],
  ["node4", "nodeL"],
  ["node4", "nodeI"],
  ["node4", "node7"],
  ["node5", "node6"],
  ["node5", "nodeE"],
  ["node6", "node7"],
  ["node7", "node8"],
  ["node8", "node9"],
  ["node9", "nodeA"],
  ["node9", "nodeC"],
  ["nodeA", "nodeB"],
  ["nodeB", "nodeC"],
  ["nodeC", "nodeD"],
  ["nodeC", "nodeF"],
  ["nodeD", "nodeE"],
  ["nodeE", "nodeF"],
  ["nodeE", "nodeG"],
  ["nodeE", "nodeL"],
  ["nodeF", "nodeH"],
  ["nodeG", "nodeH"],
  ["nodeH", "nodeI"],
  ["nodeI", "nodeJ"],
  ["nodeI", "nodeK"],
  ["nodeJ", "nodeK"],
  ["nodeK", "nodeL"],
];
