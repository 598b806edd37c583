/** Registers every admission policy (kind "admission") with the policy registry. */
import "./all.js";
import "./ib2.js";
import "./ib3.js";
import "./utility.js";
