/** Every WOPI header name Quire reads or writes, spelled once. Lookups on requests are case-insensitive. */
export const H = {
  override: 'X-WOPI-Override',
  lock: 'X-WOPI-Lock',
  oldLock: 'X-WOPI-OldLock',
  lockFailureReason: 'X-WOPI-LockFailureReason',
  itemVersion: 'X-WOPI-ItemVersion',
  maxExpectedSize: 'X-WOPI-MaxExpectedSize',
  size: 'X-WOPI-Size',
  suggestedTarget: 'X-WOPI-SuggestedTarget',
  relativeTarget: 'X-WOPI-RelativeTarget',
  overwriteRelativeTarget: 'X-WOPI-OverwriteRelativeTarget',
  validRelativeTarget: 'X-WOPI-ValidRelativeTarget',
  fileConversion: 'X-WOPI-FileConversion',
  requestedName: 'X-WOPI-RequestedName',
  invalidFileNameError: 'X-WOPI-InvalidFileNameError',
  editors: 'X-WOPI-Editors',
  serverError: 'X-WOPI-ServerError',
  sessionContext: 'X-WOPI-SessionContext',
  proof: 'X-WOPI-Proof',
  proofOld: 'X-WOPI-ProofOld',
  proofTimestamp: 'X-WOPI-TimeStamp',
  correlationId: 'X-WOPI-CorrelationId',
  sessionId: 'X-WOPI-SessionId',
} as const;

/** Save flags, sent by ONLYOFFICE and older Collabora as X-LOOL-WOPI-*, by current Collabora as X-COOL-WOPI-*. */
export const SAVE_FLAG_PREFIXES = ['X-COOL-WOPI-', 'X-LOOL-WOPI-'] as const;
export const SAVE_FLAG = {
  modifiedByUser: 'IsModifiedByUser',
  autosave: 'IsAutosave',
  exitSave: 'IsExitSave',
  timestamp: 'Timestamp',
} as const;

/** X-WOPI-Override values, as the clients send them. */
export const OVERRIDE = {
  put: 'PUT',
  putRelative: 'PUT_RELATIVE',
  lock: 'LOCK',
  getLock: 'GET_LOCK',
  refreshLock: 'REFRESH_LOCK',
  unlock: 'UNLOCK',
  renameFile: 'RENAME_FILE',
  deleteFile: 'DELETE',
  putUserInfo: 'PUT_USER_INFO',
} as const;
