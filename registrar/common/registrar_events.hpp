// Event seams between the ASAP server (registrar/asap) and the ENRP server (registrar/enrp).
// Both run on the control/event-loop thread of the registrar; calls are synchronous.
#pragma once

#include "registrar/common/pool_element.hpp"
#include "registrar/common/pool_handle.hpp"

namespace poolreg {

// ASAP -> ENRP: changes to PEs this registrar owns, to be announced as ENRP Handle Updates
// (enrp.md 4.4). `pe` is complete: home = this PR, ASAP transport filled in.
class OwnedPeListener {
 public:
  virtual ~OwnedPeListener() = default;
  // Successful registration or re-registration (Handle Update ADD, plus the takeover-suggestion
  // copy when enabled).
  virtual void on_owned_pe_registered(const PoolHandle& handle, const PoolElement& pe) = 0;
  // Only the PE's ASAP transport changed (its association's peer addresses: SCTP ADD-IP,
  // DELETE-IP, SET-PRIMARY); nothing PUs see. ENRP may send it later with the PE's next update.
  virtual void on_owned_pe_transport_changed(const PoolHandle& handle, const PoolElement& pe) {
    on_owned_pe_registered(handle, pe);
  }
  // Deregistration, keep-alive timeout, association loss, unreachable threshold, operator
  // removal of an owned PE (Handle Update DEL).
  virtual void on_owned_pe_removed(const PoolHandle& handle, const PoolElement& pe) = 0;
};

// ENRP -> ASAP: start monitoring a PE this registrar has just become home of, by an Endpoint
// Keep-Alive with H=1 over a new association to its ASAP transport, and arm the keep-alive
// timeout (enrp.md 4.7 step 5; nextgen.md 4 for an accepted takeover suggestion).
class PeMonitor {
 public:
  virtual ~PeMonitor() = default;
  virtual void monitor_as_new_home(const PoolHandle& handle, const PoolElement& pe) = 0;
};

}  // namespace poolreg
